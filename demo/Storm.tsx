import { useEffect, useMemo, useRef, useState } from 'react'
import { histogram, POLICY_SOURCE, WINDOW, type StormResult } from './simulate-storm'
import type { StormRequest } from './storm-worker'

const CLIENTS = 10_000
const OUTAGES = [0, 2, 5, 10, 30, 60]
/** The design's budget for the busiest 100 ms after the server is back. */
const BUDGET = 0.03
const BARS = 120

export function Storm() {
  const [outage, setOutage] = useState(10)
  const [runs, setRuns] = useState(0)
  const [results, setResults] = useState<readonly [StormResult, StormResult] | null>(null)
  const worker = useRef<Worker | null>(null)
  const latest = useRef(0)

  useEffect(() => {
    const created = new Worker(new URL('./storm-worker.ts', import.meta.url), { type: 'module' })
    created.onmessage = ({ data }: MessageEvent<{ id: number; results: [StormResult, StormResult] }>) => {
      // Only the answer to the latest question: the outage may have changed meanwhile.
      if (data.id === latest.current) setResults(data.results)
    }
    worker.current = created
    return () => {
      created.terminate()
      worker.current = null
    }
  }, [])
  useEffect(() => {
    // `runs` re-seeds, so "Draw again" shows another draw of the same policy.
    const request: StormRequest = { id: ++latest.current, clients: CLIENTS, downFor: outage * 1000, seed: 0x5eed + runs }
    worker.current?.postMessage(request)
  }, [outage, runs])

  const end = results ? Math.max(...results.map((r) => r.allBackAt)) * 1.04 + 200 : 1
  const width = Math.max(WINDOW, Math.ceil(end / BARS / WINDOW) * WINDOW)

  return (
    <>
      <h2>
        A reconnection storm <span className="muted">{CLIENTS.toLocaleString('en')} simulated clients</span>
      </h2>
      <p>
        Every client loses its connection at the same moment; the server refuses connections for the outage, then comes
        back. Each bar counts connection attempts in {width} ms, drawn with the library's own <code>{POLICY_SOURCE}</code>{' '}
        (imported from <code>steadysocket</code>, so this follows the shipped policy).
      </p>
      <div className="row">
        <label className="inline">
          outage
          <select data-testid="storm-outage" value={outage} onChange={(event) => setOutage(Number(event.target.value))}>
            {OUTAGES.map((s) => (
              <option key={s} value={s}>
                {s} s
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setRuns((n) => n + 1)}>
          Draw again
        </button>
        <span className="muted" data-testid="storm-took">
          {results ? `computed in a worker in ${Math.round(results[0].took + results[1].took)} ms` : 'computing…'}
        </span>
      </div>
      {results && (
        <div className="storm" data-testid="storm" data-down-for={results[0].downFor}>
          <StormChart title="steadysocket defaults" result={results[0]} end={end} width={width} testId="storm-default" />
          <StormChart title={"retry: { jitter: 'none' }"} result={results[1]} end={end} width={width} testId="storm-nojitter" />
        </div>
      )}
    </>
  )
}

function StormChart({ title, result, end, width, testId }: { title: string; result: StormResult; end: number; width: number; testId: string }) {
  const bins = useMemo(() => histogram(result.attempts, width, end), [result, width, end])
  const peak = Math.max(1, ...bins)
  const w = 360
  const h = 120
  const barWidth = w / bins.length
  const over = result.busiest.share > BUDGET
  return (
    <figure data-testid={testId}>
      <figcaption>
        <b>{title}</b>
        <span className={over ? 'bad' : 'good'} data-testid={`${testId}-busiest`}>
          busiest {WINDOW} ms after the server is back: {(result.busiest.share * 100).toFixed(2)} % of clients (budget{' '}
          {BUDGET * 100} %)
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h + 14}`} role="img" aria-label={`${title}: attempts over time`}>
        {bins.map((count, i) =>
          count === 0 ? null : (
            <rect key={i} x={i * barWidth} width={Math.max(1, barWidth - 0.5)} y={h - (count / peak) * h} height={(count / peak) * h} />
          ),
        )}
        <line className="back" x1={(result.downFor / end) * w} x2={(result.downFor / end) * w} y1="0" y2={h} />
        <text x={Math.min(w - 70, (result.downFor / end) * w + 3)} y="10" className="back-label">
          server back
        </text>
        <text x="0" y={h + 12}>
          0 s
        </text>
        <text x={w} y={h + 12} textAnchor="end">
          {(end / 1000).toFixed(1)} s
        </text>
      </svg>
      <p className="muted">
        tallest bar {peak.toLocaleString('en')} attempts · {result.attemptsPerClient.toFixed(1)} attempts per client · every
        client open {((result.allBackAt - result.downFor) / 1000).toFixed(1)} s after the server is back
      </p>
    </figure>
  )
}
