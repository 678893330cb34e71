import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const NGINX = '/usr/sbin/nginx'

/** A free TCP port on 127.0.0.1 (nginx needs a number in its config; it cannot take port 0). */
export function freePort() {
  return /** @type {Promise<number>} */ (
    new Promise((resolve, reject) => {
      const probe = createServer().once('error', reject)
      probe.listen(0, '127.0.0.1', () => {
        const address = /** @type {import('node:net').AddressInfo} */ (probe.address())
        probe.close(() => resolve(address.port))
      })
    })
  )
}

/**
 * Resolves once something accepts TCP connections on `port`; rejects after `timeoutMs`.
 * @param {number} port
 * @param {number} timeoutMs
 */
export function accepting(port, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const probe = () => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(undefined)
      })
      socket.once('error', () => {
        socket.destroy()
        if (Date.now() > deadline) reject(new Error(`nothing accepts connections on 127.0.0.1:${port} after ${timeoutMs} ms`))
        else setTimeout(probe, 20)
      })
    }
    probe()
  })
}

/**
 * Starts nginx (Debian `nginx-light`) in the foreground as a child process, as a WebSocket
 * reverse proxy on 127.0.0.1 in front of `upstreams` (round robin), with its config and
 * temp files in a fresh temp dir. `close()` kills it and removes the dir.
 * @param {{ upstreams: number[], readTimeout?: string, maxFails?: number, failTimeout?: string }} options
 */
export async function startNginx({ upstreams, readTimeout = '60s', maxFails = 1, failTimeout = '1s' }) {
  if (!existsSync(NGINX)) throw new Error(`startNginx: ${NGINX} is missing — apt-get install -y nginx-light (.ci/run does)`)
  if (!Array.isArray(upstreams) || upstreams.length === 0) throw new TypeError('startNginx: upstreams must be a non-empty array of ports')
  const prefix = mkdtempSync(join(tmpdir(), 'steadysocket-nginx-'))
  const port = await freePort()
  const conf = join(prefix, 'nginx.conf')
  const servers = upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=${maxFails} fail_timeout=${failTimeout};`).join('\n')
  writeFileSync(
    conf,
    `master_process off; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}; proxy_temp_path ${prefix}; fastcgi_temp_path ${prefix}; uwsgi_temp_path ${prefix}; scgi_temp_path ${prefix};
  upstream backends {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout ${readTimeout};
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
    }
  }
}
`,
  )
  const child = spawn(NGINX, ['-c', conf, '-p', prefix, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const failed = exited.then((code) => {
    throw new Error(`nginx exited with ${code} before accepting connections: ${stderr}`)
  })
  failed.catch(() => {})
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    rmSync(prefix, { recursive: true, force: true })
  }
  try {
    await Promise.race([accepting(port), failed])
  } catch (error) {
    await close()
    throw error
  }
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    /** nginx's error log so far (warnings and errors), for failure messages. */
    errors: () => {
      try {
        return readFileSync(join(prefix, 'error.log'), 'utf8')
      } catch {
        return ''
      }
    },
    close,
  }
}
