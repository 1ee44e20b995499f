-- wrk script: replay pre-signed raw HTTP requests.
-- Usage: wrk -tN -cM -dS -s replay.lua http://127.0.0.1:PORT -- DIR
-- Thread i reads DIR/requests-<i>.bin, records of "<length>\n<raw request>",
-- and sends them in order (each thread its own slice, so no request is sent
-- twice unless a thread runs out and starts again: counted as "wrapped").
-- done() prints one machine-readable line starting with "BENCH ".

local threads = {}
local count = 0

function setup(thread)
   thread:set("id", count)
   table.insert(threads, thread)
   count = count + 1
end

function init(args)
   local file = assert(io.open(string.format("%s/requests-%d.bin", args[1], id), "rb"))
   local data = file:read("*a")
   file:close()
   queue = {}
   local pos = 1
   while pos <= #data do
      local newline = data:find("\n", pos, true)
      local length = tonumber(data:sub(pos, newline - 1))
      queue[#queue + 1] = data:sub(newline + 1, newline + length)
      pos = newline + length + 1
   end
   index = 0
   wrapped = 0
end

function request()
   index = index + 1
   if index > #queue then
      index = 1
      wrapped = wrapped + 1
   end
   return queue[index]
end

function done(summary, latency, requests)
   local wraps = 0
   for _, thread in ipairs(threads) do
      wraps = wraps + (thread:get("wrapped") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
         .. '"errors": %d, "wrapped": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      e.status + e.connect + e.read + e.write + e.timeout, wraps))
end
