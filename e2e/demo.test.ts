import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'
import { root } from './harness'

// `npm run demo` exactly as a developer runs it, in its own process group so Ctrl-C can be
// sent the way a terminal sends it (SIGINT to the whole group). Every port comes from the
// env vars, free ones picked here. `UPDATE_SCREENSHOTS=1` (or a missing docs/demo.png)
// refreshes the README's screenshot; every run also writes test-results/demo.png.

const SCREENSHOT = join(root, 'docs', 'demo.png')
const LATEST = join(root, 'test-results', 'demo.png')
const WAIT = 15000
const VIEWPORT = { width: 1280, height: 1180 }

let demo: ChildProcess
let exited: Promise<unknown>
let output = ''
let pageUrl: string
let controlUrl: string
let ports: { page: number; server: number; proxy: number; control: number }
let browser: Browser
let context: BrowserContext
// Two tabs of one user: `a` leads (it opened first; after the takeover, the tab that took over) and `b` follows.
let a: Page
let b: Page
const pageErrors: string[] = []

interface ServerState {
  connections: number
  totalConnections: number
  log: Array<{ conn: number; binary: boolean; data: string }>
  proxy: { connections: number; blackholed: boolean }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const server = createServer()
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return server
    }),
  )
  const found = servers.map((server) => (server.address() as AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return found
}

/** Every process in the tree under `pid` (itself included), from /proc. */
function tree(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The field after the parenthesised name: state, then the parent pid.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {
      // The process ended while we read.
    }
  }
  const found = [pid]
  for (let i = 0; i < found.length; i++) found.push(...(parents.get(found[i] as number) ?? []))
  return found
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
  } catch {
    return false
  }
}

const watch = (page: Page) => page.on('pageerror', (error) => pageErrors.push(String(error)))

async function openDemo(): Promise<Page> {
  const page = await context.newPage()
  watch(page)
  await page.goto(pageUrl)
  await statusOf(page, 'open')
  return page
}

/** The role badge of each page, sorted: `['follower', 'follower', 'leader']`. */
const roles = (pages: Page[]) => Promise.all(pages.map((page) => page.getByTestId('role').textContent())).then((all) => all.sort())

/** The first page whose badge says `role`. */
async function withRole(pages: Page[], role: string): Promise<Page> {
  for (const page of pages) if ((await page.getByTestId('role').textContent()) === role) return page
  throw new Error(`no page shows ${role}; they show ${(await roles(pages)).join(', ')}`)
}

/** Waits until each page shows the server's count as the control endpoint reports it: `connections` open now. */
async function pagesShowServer(pages: Page[], connections: number) {
  const { totalConnections } = await serverState()
  for (const page of pages) {
    // Polled by the page every second.
    await page.getByTestId('server-total').getByText(String(totalConnections), { exact: true }).waitFor()
    await page.getByTestId('server-connections').getByText(String(connections), { exact: true }).waitFor()
  }
}

const serverState = async () => (await (await fetch(`${controlUrl}/state`, { signal: AbortSignal.timeout(5000) })).json()) as ServerState

const statusOf = (page: Page, status: string, timeout = WAIT) =>
  page.getByTestId('status').getByText(status, { exact: true }).waitFor({ timeout })

/** The lines under "Reaction to …" for the fault pressed last. */
const reaction = (page: Page) => page.getByTestId('reaction').locator('li').allTextContents()

/** Waits until a reaction line matches each pattern, in this order. */
async function reactionShows(page: Page, patterns: RegExp[], timeout = WAIT): Promise<string[]> {
  const deadline = Date.now() + timeout
  for (;;) {
    const lines = await reaction(page)
    let at = 0
    for (const line of lines) if (at < patterns.length && (patterns[at] as RegExp).test(line)) at++
    if (at === patterns.length) return lines
    if (Date.now() > deadline) throw new Error(`reaction never showed ${patterns.join(' then ')}; it shows:\n${lines.join('\n')}`)
    await page.waitForTimeout(100)
  }
}

async function command(path: string) {
  const response = await fetch(controlUrl + path, { signal: AbortSignal.timeout(5000) })
  return { status: response.status, body: (await response.json()) as { ok: boolean; error?: string } }
}

beforeAll(async () => {
  const [page, server, proxy, control] = (await freePorts(4)) as [number, number, number, number]
  ports = { page, server, proxy, control }
  controlUrl = `http://127.0.0.1:${control}`
  demo = spawn('npm', ['run', 'demo'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DEMO_PORT: String(page),
      DEMO_WS_PORT: String(server),
      DEMO_PROXY_PORT: String(proxy),
      DEMO_CONTROL_PORT: String(control),
    },
  })
  exited = once(demo, 'exit')
  exited.catch(() => {})
  demo.stderr?.on('data', (chunk) => (output += chunk))
  const lines = createInterface({ input: demo.stdout! })
  lines.on('line', (line) => (output += `${line}\n`))
  pageUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run demo printed no URL within 30 s:\n${output}`)), 30000)
    lines.on('line', (line) => {
      const url = /Open\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line)?.[1]
      if (url) {
        clearTimeout(timer)
        resolve(url)
      }
    })
    demo.once('exit', (code) => reject(new Error(`npm run demo exited with ${code}:\n${output}`)))
  })
  // Not launchChromium(): the demo runs from src/ and needs no build in dist/.
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30000 })
  context = await browser.newContext({ viewport: VIEWPORT })
  context.setDefaultTimeout(WAIT)
  // One after the other, so `a` leads: the first tab gets the leader's lock.
  a = await openDemo()
  b = await openDemo()
}, 60000)

afterAll(async () => {
  await browser?.close()
  // Only the group this file started; SIGKILL if Ctrl-C did not end it (the test below checks it does).
  if (demo?.pid && demo.exitCode === null) {
    try {
      process.kill(-demo.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
})

describe('npm run demo', () => {
  test('prints the URL, serves the page on the chosen ports and connects through the fault proxy', async () => {
    expect(pageUrl).toBe(`http://127.0.0.1:${ports.page}/`)
    expect(output).toContain(`ws://127.0.0.1:${ports.proxy}`)
    await b.getByTestId('rtt').getByText(/^\d+ ms$/).waitFor()
    const state = await serverState()
    // Two tabs, one connection (the leader tab's), through the proxy.
    expect([state.connections, state.proxy.connections]).toEqual([1, 1])
  })

  test('two tabs of one user share one connection: the first leads, the other follows, and both pages say so', async () => {
    expect(await roles([a, b])).toEqual(['follower', 'leader'])
    expect(await a.getByTestId('role').textContent()).toBe('leader')
    expect(await a.title()).toBe('leader · steadysocket demo')
    expect(await b.title()).toBe('follower · steadysocket demo')
    expect((await serverState()).connections).toBe(1)
    await pagesShowServer([a, b], 1)
  })

  test('a chat message sent from a follower reaches the server once and comes back to every tab', async () => {
    const text = `from the follower ${Date.now().toString(36)}`
    await b.getByTestId('chat-input').fill(text)
    await b.getByTestId('chat-input').press('Enter')
    for (const page of [a, b]) await page.getByTestId('chat-line').filter({ hasText: text }).waitFor()
    const state = await serverState()
    const frames = state.log.filter((entry) => !entry.binary && entry.data.includes(text))
    // Once, through the leader's connection: the latest accepted and the only one open.
    expect(frames.map((entry) => [entry.conn, JSON.parse(entry.data)])).toEqual([
      [state.totalConnections, { type: 'publish', topic: 'chat', data: { from: expect.stringMatching(/^tab-/), text, cid: expect.any(String) } }],
    ])
    expect(await b.getByTestId('chat-pending').count()).toBe(0)
    // Shown as sent, never as queued: a follower's send() is true while the leader's connection is open.
    expect(await b.getByTestId('log').getByText(`queued "${text}"`, { exact: false }).count()).toBe(0)
  })

  test('"Open another tab" opens a follower: one leader, one server connection, and the chat history replayed once', async () => {
    const history = await a.getByTestId('chat-line').locator('.chat-text').allTextContents()
    expect(history.length).toBeGreaterThan(0)
    const [c] = await Promise.all([context.waitForEvent('page'), b.getByTestId('open-tab').click()])
    watch(c)
    await statusOf(c, 'open')
    expect(c.url()).toBe(pageUrl)
    await expect.poll(() => roles([a, b, c]), { timeout: WAIT }).toEqual(['follower', 'follower', 'leader'])
    expect(await a.getByTestId('role').textContent()).toBe('leader')
    expect((await serverState()).connections).toBe(1)
    await pagesShowServer([a, b, c], 1)
    // The leader's subscription already brings the chat: the new tab asked for the history, and every tab shows it once.
    await c.getByTestId('chat-line').filter({ hasText: history.at(-1) }).waitFor()
    for (const page of [a, b, c]) expect(await page.getByTestId('chat-line').locator('.chat-text').allTextContents()).toEqual(history)
  })

  test('closing the leader tab: a follower takes over within a few seconds, and the server again sees one connection', async () => {
    const followers = context.pages().filter((page) => page !== a)
    expect(followers).toHaveLength(2)
    const before = (await serverState()).totalConnections
    await a.close()
    await expect.poll(() => roles(followers), { timeout: 5000 }).toEqual(['follower', 'leader'])
    a = await withRole(followers, 'leader')
    b = await withRole(followers, 'follower')
    for (const page of [a, b]) await statusOf(page, 'open')
    await expect.poll(async () => {
      const state = await serverState()
      return [state.connections, state.totalConnections]
    }, { timeout: WAIT }).toEqual([1, before + 1])
    await pagesShowServer([a, b], 1)
    expect(await a.title()).toBe('leader · steadysocket demo')
    await a.getByTestId('log').getByText('this tab is now the leader').waitFor()
  })

  test('a browser without Web Locks gives each tab its own connection, and the tab says "solo"', async () => {
    const other = await browser.newContext({ viewport: VIEWPORT })
    await other.addInitScript(() => delete (Navigator.prototype as { locks?: unknown }).locks)
    const page = await other.newPage()
    watch(page)
    await page.goto(pageUrl)
    await statusOf(page, 'open')
    expect(await page.getByTestId('role').textContent()).toBe('solo')
    expect(await page.title()).toBe('solo · steadysocket demo')
    await expect.poll(async () => (await serverState()).connections, { timeout: WAIT }).toBe(2)
    await pagesShowServer([a, page], 2)
    await other.close()
    await expect.poll(async () => (await serverState()).connections, { timeout: WAIT }).toBe(1)
  })

  test('drop: the close is 1006, the socket reconnects by itself', async () => {
    await a.getByTestId('fault-drop').click()
    await reactionShows(a, [/status open → reconnecting/, /status reconnecting → connecting/, /status connecting → open/])
    await reactionShows(a, [/close 1006/, /reconnecting: retry \d+ in/, /open \(reconnected\)/])
    await statusOf(a, 'open')
    await statusOf(b, 'open')
  })

  test('chat typed during a restart outage appears exactly once in the other tab after recovery', async () => {
    const token = Date.now().toString(36)
    const texts = [1, 2, 3].map((n) => `outage ${token} #${n}`)
    const greeting = `hello from the other tab ${token}`
    await b.getByTestId('chat-input').fill(greeting)
    await b.getByTestId('chat-input').press('Enter')
    await a.getByTestId('chat-line').filter({ hasText: greeting }).waitFor()
    // Down for up to 30 s: the test ends the outage itself once the messages are typed,
    // so they are typed during it however slow the machine is.
    await a.getByTestId('restart-down').fill('30')
    await a.getByTestId('fault-restart').click()
    await reactionShows(a, [/close 1006/])
    await statusOf(a, 'reconnecting')
    for (const text of texts) {
      await a.getByTestId('chat-input').fill(text)
      await a.getByTestId('chat-input').press('Enter')
    }
    // send() returned false for each: queued, not written into a dead connection.
    for (const text of texts) await a.getByTestId('log').getByText(`queued "${text}"`, { exact: false }).waitFor()
    expect((await command('/start')).status).toBe(200)
    await statusOf(a, 'open')
    await statusOf(b, 'open')

    // A message sent after recovery arrives after the queued ones (one FIFO through the
    // server): once it shows, any duplicate of the earlier ones would have shown too.
    const marker = `after ${token}`
    await a.getByTestId('chat-input').fill(marker)
    await a.getByTestId('chat-send').click()
    for (const page of [a, b]) {
      await page.getByTestId('chat-line').filter({ hasText: marker }).waitFor()
      const lines = await page.getByTestId('chat-line').locator('.chat-text').allTextContents()
      expect(lines.filter((line) => line.includes(token))).toEqual([greeting, ...texts, marker])
    }
    expect(await a.getByTestId('chat-pending').count()).toBe(0)
    expect(await a.getByTestId('queued').textContent()).toBe('0')

    mkdirSync(join(root, 'test-results'), { recursive: true })
    await a.screenshot({ path: LATEST, fullPage: true })
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(SCREENSHOT)) {
      mkdirSync(join(root, 'docs'), { recursive: true })
      copyFileSync(LATEST, SCREENSHOT)
    }
  })

  test('blackhole: the heartbeat catches the half-open connection and the socket recovers once it heals', async () => {
    await a.getByTestId('fault-blackhole').click()
    await a.getByTestId('log').getByText('Blackhole for 8 s (half-open): done').waitFor()
    const during = (await (await fetch(`${controlUrl}/state`)).json()) as { proxy: { blackholed: boolean } }
    expect(during.proxy.blackholed).toBe(true)
    // No close comes from the network; the heartbeat (ping after 2 s idle, 2 s timeout) ends it.
    await reactionShows(a, [/close 4000 "heartbeat timeout"/], 10000)
    await reactionShows(a, [/status open → reconnecting/])
    expect((await command('/blackhole?on=0')).status).toBe(200)
    await statusOf(a, 'open', 20000)
  })

  test('latency: the RTT shown grows by twice the added delay', async () => {
    await a.getByTestId('fault-latency').selectOption('400')
    await a.getByTestId('rtt').getByText(/^(8\d\d|9\d\d|1\d\d\d) ms$/).waitFor({ timeout: 10000 })
    await a.getByTestId('fault-latency').selectOption('0')
    await a.getByTestId('rtt').getByText(/^\d{1,3} ms$/).waitFor({ timeout: 10000 })
    await statusOf(a, 'open')
  })

  test('close 1008: the socket stops and says so; "Connect again" opens it', async () => {
    await a.getByTestId('fault-fatal').click()
    await reactionShows(a, [/status open → closed/])
    await reactionShows(a, [/close 1008 "policy violation", stopped/])
    await statusOf(a, 'closed')
    expect(await a.getByTestId('last-close').textContent()).toBe('1008 policy violation')
    expect(await a.getByTestId('countdown').count()).toBe(0)
    await a.getByTestId('connect').click()
    await statusOf(a, 'open')
  })

  test('close 1012 with retryAfter: the next attempt waits at least the 3 s the server asked for', async () => {
    await a.getByTestId('fault-retry-after').click()
    const lines = await reactionShows(a, [/close 1012/, /reconnecting: retry \d+ in/])
    const delay = Number(/retry \d+ in ([\d.]+) s/.exec(lines.find((line) => /retry \d+ in/.test(line)) ?? '')?.[1])
    expect(delay).toBeGreaterThanOrEqual(3)
    await a.getByTestId('countdown').getByText(/^next attempt in [\d.]+ s$/).waitFor()
    await statusOf(a, 'open', 20000)
  })

  test('a malformed frame is a MessageError in the log and the connection stays open', async () => {
    const before = await command('/state')
    await a.getByTestId('fault-malformed').click()
    await reactionShows(a, [/MessageError/])
    await a.getByTestId('log').getByText(/^MessageError: /).first().waitFor()
    await a.getByTestId('error-counts').getByText(/MessageError ×1\b/).waitFor()
    expect(await a.getByTestId('status').textContent()).toBe('open')
    expect(await reaction(a)).not.toContainEqual(expect.stringMatching(/close/))
    expect((await command('/state')).body).toMatchObject({ totalConnections: (before.body as { totalConnections?: number }).totalConnections })
  })

  test('offline toggle: no attempts while offline, an attempt at once when back online', async () => {
    await a.getByTestId('fault-offline').click()
    await statusOf(a, 'offline')
    await reactionShows(a, [/→ offline$/])
    expect(await a.getByTestId('online').textContent()).toBe('no')
    // No countdown: state.retryAt is null, no attempt is scheduled while offline.
    expect(await a.getByTestId('countdown').count()).toBe(0)
    await a.getByTestId('fault-offline').click()
    await statusOf(a, 'open')
    await reactionShows(a, [/status offline → connecting/, /→ open$/])
    expect(await a.getByTestId('online').textContent()).toBe('yes')
  })

  test('"Go offline" in a follower takes every tab offline, the leader\'s connection too; "Go online" in another tab brings them back', async () => {
    await b.getByTestId('fault-offline').click()
    await reactionShows(b, [/→ offline$/])
    for (const page of [a, b]) {
      await statusOf(page, 'offline')
      await page.getByTestId('fault-offline').getByText('Go online', { exact: true }).waitFor()
      expect(await page.getByTestId('online').textContent()).toBe('no')
    }
    await expect.poll(async () => (await serverState()).connections, { timeout: WAIT }).toBe(0)
    await a.getByTestId('fault-offline').click()
    await reactionShows(a, [/status offline → connecting/, /→ open$/])
    for (const page of [a, b]) await statusOf(page, 'open')
    expect(await roles([a, b])).toEqual(['follower', 'leader'])
  })

  test('bad control input: a 400 with a message, shown on the page instead of hanging', async () => {
    expect(await command('/latency?ms=-5')).toEqual({ status: 400, body: { ok: false, error: 'ms=-5: expected milliseconds from 0 to 60000' } })
    expect(await command('/restart?down=soon')).toEqual({ status: 400, body: { ok: false, error: 'down=soon: expected an integer' } })
    expect(await command('/close?code=1005')).toMatchObject({ status: 400, body: { ok: false, error: expect.stringContaining('code 1005') } })
    expect(await command('/explode')).toMatchObject({ status: 400, body: { ok: false, error: expect.stringMatching(/^no route \/explode/) } })

    await a.getByTestId('restart-down').fill('5000')
    await a.getByTestId('fault-restart').click()
    await a.getByTestId('control-error').getByText(/400: down=5000000: expected milliseconds from 0 to 600000/).waitFor()
    await a.getByTestId('log').getByText(/control \/restart failed: 400/).first().waitFor()
    expect(await a.getByTestId('status').textContent()).toBe('open')
  })

  test('the storm panel redraws both policies for 10,000 clients after another outage, jittered far below the no-jitter spike', async () => {
    await a.getByTestId('storm-outage').selectOption('30')
    await a.locator('[data-testid="storm"][data-down-for="30000"]').waitFor()
    expect(await a.getByTestId('storm-took').textContent()).toMatch(/^computed in a worker in \d+ ms$/)
    const share = async (id: string) =>
      Number(/([\d.]+) % of clients/.exec((await a.getByTestId(`${id}-busiest`).textContent()) ?? '')?.[1])
    expect(await share('storm-nojitter')).toBe(100)
    expect(await share('storm-default')).toBeLessThan(20)
    expect(await a.getByTestId('storm-default').locator('rect').count()).toBeGreaterThan(10)
  })

  test('a busy port is a clear message, not a stack trace', async () => {
    const second = spawn(process.execPath, [join(root, 'demo', 'serve.mjs')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEMO_PORT: String(ports.page), DEMO_WS_PORT: '0', DEMO_PROXY_PORT: '0', DEMO_CONTROL_PORT: '0' },
    })
    let stderr = ''
    second.stderr.on('data', (chunk) => (stderr += chunk))
    const [code] = await once(second, 'exit')
    expect(code).toBe(1)
    expect(stderr.trim()).toBe(
      `steadysocket demo: port ${ports.page} for the demo page is in use. Stop what holds it, or pick another: DEMO_PORT=${ports.page + 1} npm run demo (0 picks a free port).`,
    )
  })

  test('Ctrl-C stops every process it started', async () => {
    expect(pageErrors).toEqual([])
    const pids = tree(demo.pid!)
    // npm, the shell it runs the script with, and node demo/serve.mjs at least.
    expect(pids.length).toBeGreaterThanOrEqual(2)
    process.kill(-demo.pid!, 'SIGINT')
    const [code, signal] = (await exited) as [number | null, string | null]
    expect(code === 0 || signal === 'SIGINT').toBe(true)
    const deadline = Date.now() + 5000
    while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(pids.filter(alive)).toEqual([])
    await expect(fetch(pageUrl, { signal: AbortSignal.timeout(2000) })).rejects.toThrow()
    await expect(fetch(`${controlUrl}/state`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow()
  })
})
