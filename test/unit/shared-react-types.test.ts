import { expectTypeOf, test } from 'vitest'
import { useSocket } from '../../src/react/index'
import { createSharedSocket, type SharedSocket } from '../../src/shared/index'

test('useSocket takes createSharedSocket as its factory, with its options at the top level', () => {
  const plain = () => useSocket('wss://example.test/live', { key: 'live', factory: createSharedSocket, name: 'app:user-1', takeoverAfter: 5000 })
  const typed = () => useSocket<{ n: number }, { t: string }>('wss://example.test/live', { factory: createSharedSocket, name: 'app:user-1' })
  expectTypeOf(plain).returns.toHaveProperty('send')
  expectTypeOf(typed).returns.toHaveProperty('send')
  // The factory's socket type comes back: a shared socket tells its role.
  expectTypeOf(plain).returns.toHaveProperty('role')
  // Typed as the factory's socket, with the role too.
  const viaFactory = () => useSocket<SharedSocket<{ n: number }, { t: string }>>('wss://example.test/live', { key: 'live', factory: createSharedSocket, name: 'app:user-1' })
  expectTypeOf(viaFactory).returns.toHaveProperty('role')
  expectTypeOf(viaFactory).returns.toHaveProperty('state').toEqualTypeOf<SharedSocket<{ n: number }, { t: string }>['state']>()
  expectTypeOf(plain).returns.not.toEqualTypeOf<ReturnType<typeof useSocket<unknown, unknown>>>()
  // @ts-expect-error without a factory, options are createSocket's only
  const typo = () => useSocket('wss://example.test/live', { name: 'app:user-1' })
  expectTypeOf(typo).toBeFunction()
})
