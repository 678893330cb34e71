// @ts-check
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'

/**
 * Serves `files` on 127.0.0.1, never cached, as HTML or JavaScript by their extension; any
 * other path is a 404.
 * @param {Record<string, string>} files URL path → file
 * @param {Record<string, string>} [headers] added to every file's answer
 * @returns {Promise<{ http: import('node:http').Server, url: string, close(): Promise<void> }>} `url` is `http://127.0.0.1:PORT/`
 */
export async function serveFiles(files, headers = {}) {
  const http = createServer((request, response) => {
    const file = files[(request.url ?? '/').split('?')[0] ?? '/']
    if (!file) return void response.writeHead(404).end()
    const type = file.endsWith('.html') ? 'text/html' : 'text/javascript'
    response.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store', ...headers }).end(readFileSync(file))
  })
  await new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(undefined)))
  const { port } = /** @type {import('node:net').AddressInfo} */ (http.address())
  return {
    http,
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        http.close(() => resolve(undefined))
        http.closeAllConnections()
      }),
  }
}
