-- wrk script: POST /api/v1/keys/verify (or GET /gateway/apikeycheck with
-- mode=gateway) with keys from keys.txt: in turn (verify, gateway), drawn
-- uniformly at random (uniform: most are cache misses when the file holds
-- more keys than the cache), or from a Zipf distribution over the file's
-- keys (zipf, with exponent args[3], default 1.1); or GET
-- /merchant-registry/v1/ping with mode=ping, whose file holds "KEY TOKEN"
-- lines (a key with its signed ping token, from account:seed-keys --signed-out).
-- A mode ending in "+svc" (verify+svc, gateway+svc, ping+svc) also sends
-- X-Service: amazon_sales_channel, for keys seeded with --policy.
local keys = {}
local tokens = {}
local i = 0
local mode = "verify"
local cdf = nil
local service = nil

function init(args)
  mode = args[1] or "verify"
  if mode:sub(-4) == "+svc" then
    mode = mode:sub(1, -5)
    service = "amazon_sales_channel"
  end
  for line in io.lines(args[2]) do
    if #line > 0 then
      local key, token = line:match("^(%S+) (%S+)$")
      if key then
        keys[#keys + 1] = key
        tokens[#keys] = token
      else
        keys[#keys + 1] = line
      end
    end
  end
  -- Each thread its own seed: a fresh table's address differs per thread.
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003))
  if mode == "zipf" then
    local s = tonumber(args[3] or "1.1")
    cdf = {}
    local total = 0
    for r = 1, #keys do
      total = total + 1 / (r ^ s)
      cdf[r] = total
    end
    for r = 1, #keys do cdf[r] = cdf[r] / total end
  end
end

local function zipf_rank()
  local u = math.random()
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

function request()
  local key
  if mode == "uniform" then
    key = keys[math.random(#keys)]
  elseif mode == "zipf" then
    key = keys[zipf_rank()]
  else
    i = i % #keys + 1
    key = keys[i]
  end
  if mode == "gateway" then
    return wrk.format("GET", "/gateway/apikeycheck", { ["magento-api-key"] = key, ["x-service"] = service })
  end
  if mode == "ping" then
    return wrk.format("GET", "/merchant-registry/v1/ping",
      { ["x-api-key"] = key, ["x-gw-signature"] = tokens[i], ["x-service"] = service })
  end
  return wrk.format("POST", "/api/v1/keys/verify", { ["x-api-key"] = key, ["x-service"] = service })
end
