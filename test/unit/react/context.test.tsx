import { render } from '@testing-library/react'
import { createSocket, type SteadySocket } from 'steadysocket'
import { SocketProvider, useSocketContext, useSocketState } from 'steadysocket/react'
import { describe, expect, test, vi } from 'vitest'
import { advance, server, useReactTest } from './helpers'

useReactTest()

function Status(props: { seen?: SteadySocket[] }) {
  const socket = useSocketContext()
  props.seen?.push(socket)
  return <>{useSocketState(socket, (state) => state.status)}</>
}

describe('SocketProvider', () => {
  test('gives useSocketContext the socket of the nearest provider', async () => {
    const { url, options } = server()
    const outer = createSocket(url, options)
    const inner = createSocket(url, { ...options, lazy: true })
    const seen: SteadySocket[] = []
    const view = render(
      <SocketProvider socket={outer}>
        <Status seen={seen} />
        <SocketProvider socket={inner}>
          <Status seen={seen} />
        </SocketProvider>
      </SocketProvider>,
    )
    await advance()
    expect([seen[0] === outer, seen[1] === inner, view.container.textContent]).toEqual([true, true, 'openidle'])
  })

  test('throws an error that shows how to add the provider when there is none', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(() => render(<Status />)).toThrow('useSocketContext: wrap the tree in <SocketProvider socket={socket}>')
  })
})
