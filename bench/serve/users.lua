-- wrk script: GET /users/{id}/recommendations?k=K cycling over a JSON list of user ids
-- (closed loop), counting responses by status and 200s that do not list exactly K items;
-- done() prints one JSON line (latencies in ms). Usage: wrk ... -s users.lua URL -- users.json K
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1]))
  local text = file:read("*a")
  file:close()
  k = tonumber(args[2] or "20")
  paths = {}
  for id in text:gmatch('"(.-)"') do
    local escaped = id:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)
    table.insert(paths, "/users/" .. escaped .. "/recommendations?k=" .. k)
  end
  n = 0
  statuses = {}
  short = 0
end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n - 1) % #paths + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local _, items = body:gsub('"item_id"', "")
    if items ~= k then short = short + 1 end
  end
end

function done(summary, latency, requests)
  local by_status, errors = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      by_status[tostring(status)] = (by_status[tostring(status)] or 0) + count
      if status ~= 200 then errors = errors + count end
    end
    local s = thread:get("short")
    if s > 0 then by_status["short"] = (by_status["short"] or 0) + s; errors = errors + s end
  end
  local e = summary.errors
  local transport = e.connect + e.read + e.write + e.timeout
  if transport > 0 then by_status["transport"] = transport; errors = errors + transport end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"mode": "closed loop", "load_generator": "wrk", "requests": %d, ' ..
    '"seconds": %.2f, "throughput_rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "errors": %d, "by_status": {%s}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, table.concat(parts, ", ")))
end
