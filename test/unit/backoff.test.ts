import { describe, expect, test } from 'vitest'
import { backoffDelay, CloseCode, isFatalClose } from '../../src/index'
import { retryAfter } from '../../src/close-codes'

describe('backoffDelay', () => {
  test("grows by factor from initialDelay and stops at maxDelay with 'none' jitter", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, { jitter: 'none', maxDelay: 10_000 }))
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000])
  })

  test("'full' jitter draws from [0, cap]", () => {
    expect([0, 0.5, 0.999].map((r) => backoffDelay(3, { random: () => r }))).toEqual([0, 1000, 1998])
  })

  test("'equal' jitter draws from [cap/2, cap]", () => {
    expect([0, 0.5, 1].map((r) => backoffDelay(3, { jitter: 'equal', random: () => r }))).toEqual([1000, 1500, 2000])
  })

  test('uses initialDelay and factor', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, { jitter: 'none', initialDelay: 100, factor: 3 }))).toEqual([100, 300, 900])
  })

  test('stays a number for huge attempt counts, even with initialDelay 0', () => {
    expect([backoffDelay(1025, { initialDelay: 0, jitter: 'none' }), backoffDelay(5000, { jitter: 'none' }), backoffDelay(5000, { random: () => 0.5 })]).toEqual([0, 30_000, 15_000])
  })

  test('is pure: the same inputs give the same delay', () => {
    const options = { random: () => 0.3 }
    expect(backoffDelay(4, options)).toBe(backoffDelay(4, options))
  })
})

describe('isFatalClose', () => {
  test('treats protocol, data and policy errors and 4400–4499 as fatal', () => {
    const codes = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 4000, 4399, 4400, 4450, 4499, 4500]
    expect(codes.filter((code) => isFatalClose({ code }))).toEqual([1002, 1003, 1007, 1008, 1010, 4400, 4450, 4499])
  })

  test('exports the close codes it uses', () => {
    expect([CloseCode.GoingAway, CloseCode.PolicyViolation, CloseCode.HeartbeatTimeout]).toEqual([1001, 1008, 4000])
  })
})

describe('retryAfter', () => {
  test('reads a JSON reason and ignores anything else', () => {
    expect(['{"retryAfter":1500}', '{"retryAfter":-1}', '{"retryAfter":"5"}', '{broken', 'bye', ''].map(retryAfter)).toEqual([1500, undefined, undefined, undefined, undefined, undefined])
  })
})
