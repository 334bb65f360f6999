-- wrk script: POST /api/v1/keys/verify (or GET /gateway/apikeycheck with
-- mode=gateway), rotating through the sampled keys in keys.txt.
local keys = {}
local i = 0
local mode = "verify"

function init(args)
  mode = args[1] or "verify"
  for line in io.lines(args[2]) do
    if #line > 0 then keys[#keys + 1] = line end
  end
end

function request()
  i = i % #keys + 1
  if mode == "gateway" then
    return wrk.format("GET", "/gateway/apikeycheck", { ["magento-api-key"] = keys[i] })
  end
  return wrk.format("POST", "/api/v1/keys/verify", { ["x-api-key"] = keys[i] })
end
