import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const PYTHON = '/usr/bin/python3'

/**
 * Runs one of the Python servers in this folder (`python_echo.py` on `websockets`,
 * `python_aiohttp.py` on aiohttp) as a child process with Debian's python3. The script
 * prints its port first; `restart()` starts it again on the same port, `close()` kills it.
 * @param {string} script file name in test/server
 * @param {{ extraArgs?: string[], packages?: string }} [options] `packages` names the Debian packages it needs, for the error
 */
export async function startPython(script, { extraArgs = [], packages = 'python3-websockets python3-aiohttp' } = {}) {
  if (!existsSync(PYTHON)) throw new Error(`startPython: ${PYTHON} is missing — apt-get install -y ${packages} (.ci/run does)`)
  const path = fileURLToPath(new URL(script, import.meta.url))
  /** @type {import('node:child_process').ChildProcessWithoutNullStreams | undefined} */
  let child
  let port = 0

  const launch = () =>
    new Promise((resolve, reject) => {
      const proc = spawn(PYTHON, [path, String(port), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] })
      child = proc
      let stderr = ''
      proc.stderr.on('data', (chunk) => (stderr += chunk))
      const timer = setTimeout(() => {
        proc.kill('SIGKILL')
        reject(new Error(`${script} did not print its port within 10 s: ${stderr}`))
      }, 10_000)
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${script} exited with ${code} before listening — is ${packages} installed? ${stderr}`))
      })
      proc.stdout.once('data', (chunk) => {
        clearTimeout(timer)
        port = Number(String(chunk).trim())
        resolve(undefined)
      })
    })

  const stop = () =>
    new Promise((resolve) => {
      const proc = child
      child = undefined
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve(undefined)
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000)
      proc.once('exit', () => {
        clearTimeout(timer)
        resolve(undefined)
      })
      proc.kill('SIGTERM')
    })

  await launch()
  return {
    get port() {
      return port
    },
    get url() {
      return `ws://127.0.0.1:${port}`
    },
    /** Kills the process: every connection drops without a close frame. */
    stop,
    /** Starts it again on the same port. */
    start: launch,
    close: stop,
  }
}
