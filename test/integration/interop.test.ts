import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect as connectTcp, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { startServer } from '../server/index.js'
import { cleanup, connect, record, until } from './helpers'

const fast = { initialDelay: 50, maxDelay: 200, jitter: 'none' as const }
const python = '/usr/bin/python3'

/** Starts a child process, killed after the test; rejects early if it exits. */
function start(command: string, args: string[], what: string) {
  if (!existsSync(command)) throw new Error(`${what}: ${command} is missing — apt-get install -y python3-websockets nginx-light (.ci/run does)`)
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  cleanup(() => new Promise((resolve) => (child.exitCode === null ? (child.once('exit', resolve), child.kill('SIGTERM')) : resolve(null))))
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${stderr}`))))
  return { child, exited }
}

/** Resolves with the first line a process prints. */
function firstLine(command: string, args: string[], what: string): Promise<string> {
  const { child, exited } = start(command, args, what)
  const line = new Promise<string>((resolve) => child.stdout.once('data', (chunk) => resolve(String(chunk).trim())))
  return Promise.race([line, exited, timeout(what)])
}

const timeout = (what: string) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not start in 10 s`)), 10_000).unref())

/** Resolves once something accepts TCP connections on the port (bounded by the caller's race). */
function accepting(port: number): Promise<void> {
  return new Promise((resolve) => {
    const probe = () =>
      connectTcp(port, '127.0.0.1')
        .once('connect', function (this: Socket) {
          this.destroy()
          resolve()
        })
        .once('error', () => setTimeout(probe, 20))
    probe()
  })
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })

/** nginx as a WebSocket reverse proxy in front of `upstream`, with a short proxy_read_timeout. */
async function nginx(upstreamPort: number, readTimeout: string) {
  const prefix = mkdtempSync(join(tmpdir(), 'steadysocket-nginx-'))
  cleanup(() => rmSync(prefix, { recursive: true, force: true }))
  const port = await freePort()
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `daemon off; master_process off; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}; proxy_temp_path ${prefix}; fastcgi_temp_path ${prefix}; uwsgi_temp_path ${prefix}; scgi_temp_path ${prefix};
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout ${readTimeout};
    }
  }
}
`,
  )
  const { exited } = start('/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], 'nginx')
  await Promise.race([accepting(port), exited, timeout('nginx')])
  return `ws://127.0.0.1:${port}`
}

describe('interop with other real servers', () => {
  test("Python's websockets server: JSON and binary echo, a server close code and reconnection", async () => {
    const port = await firstLine(python, ['test/server/python_echo.py'], 'the Python websockets server')
    const socket = connect(`ws://127.0.0.1:${port}`, { retry: fast })
    const log = record(socket)
    const messages: unknown[] = []
    const binary: ArrayBuffer[] = []
    socket.on('message', (m) => messages.push(m))
    socket.on('binary', (b) => binary.push(b as ArrayBuffer))
    socket.send({ hello: 'python' })
    socket.send(new Uint8Array([7, 8, 9]))
    await until(socket, () => messages.length === 1 && binary.length === 1, 'both echoes')
    expect(messages).toEqual([{ hello: 'python' }])
    expect([...new Uint8Array(binary[0]!)]).toEqual([7, 8, 9])
    socket.sendRaw('close:4001')
    await until(socket, () => log.includes('open:again'), 'the reconnect after 4001')
    socket.sendRaw('close:4403')
    await until(socket, () => socket.state.status === 'closed', 'the fatal 4403')
    expect(log).toEqual(['open', 'close:4001', 'reconnecting:1', 'open:again', 'close:4403:final'])
  })

  test('behind nginx, an idle connection is cut at proxy_read_timeout without a heartbeat and kept with one', async () => {
    const server = await startServer({ mode: 'echo' })
    cleanup(() => server.close())
    const url = await nginx(server.port, '1s')
    const idle = connect(url, { retry: fast })
    const kept = connect(url, { retry: fast, heartbeat: { interval: 300, timeout: 500 } })
    const idleLog = record(idle)
    const keptLog = record(kept)
    await until(idle, () => idleLog.includes('open:again'), 'nginx to cut the idle connection and the client to reconnect', 10_000)
    await until(idle, () => idleLog.filter((line) => line === 'open:again').length === 2, 'a second cut', 10_000)
    // By now the heartbeat connection has lived through two read timeouts.
    expect(keptLog).toEqual(['open'])
    expect(idleLog.slice(0, 4)).toEqual(['open', 'close:1006', 'reconnecting:1', 'open:again'])
    expect(kept.state.rtt).not.toBeNull()
  })
})
