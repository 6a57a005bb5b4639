-- wrk script: counts answers by status (200, 503, anything else) across threads and
-- prints them with the latency percentiles and socket errors, one line each.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  s200, s503, sother = 0, 0, 0
end

function response(status, headers, body)
  if status == 200 then
    s200 = s200 + 1
  elseif status == 503 then
    s503 = s503 + 1
  else
    sother = sother + 1
  end
end

function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s200")
    b = b + t:get("s503")
    c = c + t:get("sother")
  end
  local e = summary.errors
  io.write(string.format("status 200=%d 503=%d other=%d\n", a, b, c))
  io.write(string.format("latency_us p50=%d p99=%d p999=%d max=%d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
  io.write(string.format("errors connect=%d read=%d write=%d timeout=%d\n", e.connect, e.read, e.write, e.timeout))
  io.write(string.format("requests=%d duration_us=%d\n", summary.requests, summary.duration))
end
