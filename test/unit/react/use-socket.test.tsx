import { render } from '@testing-library/react'
import { StrictMode, Suspense } from 'react'
import type { SteadySocket } from 'steadysocket'
import { useSocket, useSocketState, type UseSocketOptions } from 'steadysocket/react'
import { describe, expect, test, vi } from 'vitest'
import { record } from '../helpers'
import { advance, server, useReactTest } from './helpers'

useReactTest()

/** Renders the socket's status and hands the socket to `seen`. */
function Probe(props: { url: string | (() => string); options?: UseSocketOptions<any, any>; seen?: SteadySocket<any, any>[] }) {
  const socket = useSocket(props.url, props.options)
  props.seen?.push(socket)
  return <>{useSocketState(socket, (state) => state.status)} </>
}

describe('useSocket', () => {
  test('opens one connection under StrictMode', async () => {
    const { url, options, created } = server()
    const seen: SteadySocket<any, any>[] = []
    const view = render(
      <StrictMode>
        <Probe url={url} options={options} seen={seen} />
      </StrictMode>,
    )
    await advance()
    expect([created.length, new Set(seen).size, view.container.textContent]).toEqual([1, 1, 'open '])
  })

  test('shares one socket per URL across components, and one per options.key', async () => {
    const { url, options, created } = server()
    const seen: SteadySocket<any, any>[] = []
    const other = { ...options, key: 'other' }
    render(
      <>
        <Probe url={url} options={options} seen={seen} />
        <Probe url={url} options={options} seen={seen} />
        <Probe url={url} options={other} seen={seen} />
      </>,
    )
    await advance()
    const [a, b, c] = seen
    expect([a === b, a === c, created.length]).toEqual([true, false, 2])
  })

  test('closes the socket 1 s after the last component unmounts', async () => {
    const { url, options, live } = server()
    const seen: SteadySocket<any, any>[] = []
    const view = render(<Probe url={url} options={options} seen={seen} />)
    await advance()
    const log = record(seen[0]!)
    view.unmount()
    await advance(989)
    expect([seen[0]!.state.status, live()]).toEqual(['open', 1])
    await advance(1)
    expect([seen[0]!.state.status, live(), log]).toEqual(['closed', 0, ['close:1000:final']])
  })

  test('reuses the open socket when remounted within the grace period', async () => {
    const { url, options, created } = server()
    const seen: SteadySocket<any, any>[] = []
    render(<Probe url={url} options={options} seen={seen} />).unmount()
    await advance(900)
    const view = render(<Probe url={url} options={options} seen={seen} />)
    await advance(5000)
    expect([seen[0] === seen.at(-1), created.length, view.container.textContent]).toEqual([true, 1, 'open '])
  })

  test('opens a new socket when remounted after the grace period', async () => {
    const { url, options, created } = server()
    const seen: SteadySocket<any, any>[] = []
    render(<Probe url={url} options={options} seen={seen} />).unmount()
    await advance(1000)
    render(<Probe url={url} options={options} seen={seen} />)
    await advance()
    expect([seen[0] === seen.at(-1), seen[0]!.state.status, seen.at(-1)!.state.status, created.length]).toEqual([false, 'closed', 'open', 2])
  })

  test('throws a TypeError naming options.key for a function url without a key', () => {
    const { options } = server()
    vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(() => render(<Probe url={() => 'ws://localhost:1'} options={options} />)).toThrow(
      new TypeError('useSocket: a function url needs options.key'),
    )
  })

  test('accepts a function url with a key and calls it before the attempt', async () => {
    const { url, options, created } = server()
    const getUrl = vi.fn(() => url)
    const view = render(<Probe url={getUrl} options={{ ...options, key: 'live-fn' }} />)
    await advance()
    expect([getUrl.mock.calls.length, created.length, view.container.textContent]).toEqual([1, 1, 'open '])
  })

  test('keeps the first options and warns once when another component passes different ones', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { url, options } = server()
    const seen: SteadySocket<any, any>[] = []
    const app = (lazy: boolean) => (
      <>
        <Probe url={url} options={options} seen={seen} />
        <Probe url={url} options={{ ...options, lazy }} seen={seen} />
      </>
    )
    const view = render(app(true))
    view.rerender(app(false))
    await advance()
    expect([seen[1]!.state.status, warn.mock.calls]).toEqual([
      'open',
      [[`[steadysocket] useSocket: options differ for the key "${url}"; the first ones are used — give other options another key`]],
    ])
  })

  test('does not warn when components pass equal options built inline', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { url, WebSocket, env } = server()
    const Inline = () => (
      <Probe
        url={url}
        options={{ WebSocket, environment: { ...env.environment }, retry: { jitter: 'none' }, on: { open: () => {} } }}
      />
    )
    const view = render(
      <>
        <Inline />
        <Inline />
      </>,
    )
    view.rerender(<Inline />)
    await advance()
    expect(warn).not.toHaveBeenCalled()
  })

  test('closes a socket whose render never committed once the grace period ends', async () => {
    const { url, options, created, live } = server()
    function Suspends(): never {
      useSocket(url, options)
      throw new Promise(() => {})
    }
    const view = render(
      <Suspense fallback="loading">
        <Suspends />
      </Suspense>,
    )
    await advance()
    expect([view.container.textContent, created.length, live()]).toEqual(['loading', 1, 1])
    await advance(1000)
    expect(live()).toBe(0)
  })

  test('revives the same socket when the commit comes after the grace period', async () => {
    const { url, options, created, live } = server()
    const seen: SteadySocket<any, any>[] = []
    let slow = true
    // Renders after Probe, in the same pass: the clock runs past the grace period
    // between Probe's render and the commit.
    function Slow() {
      if (slow) vi.advanceTimersByTime(1500)
      slow = false
      return null
    }
    render(
      <>
        <Probe url={url} options={options} seen={seen} />
        <Slow />
      </>,
    )
    await advance()
    render(<Probe url={url} options={options} seen={seen} />)
    await advance()
    expect([new Set(seen).size, seen[0]!.state.status, created.length, live()]).toEqual([1, 'open', 2, 1])
  })
})
