import { missingPrerequisite } from './harness'

/** Fails the e2e run at once, saying how to fix it, when Chromium or the build is missing. */
export default function setup(): void {
  const problem = missingPrerequisite()
  if (problem) throw new Error(problem)
}
