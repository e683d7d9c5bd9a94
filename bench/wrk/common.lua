-- Shared by the create and delete scripts: each wrk thread walks its own range of pre-created users b<thread><n>,
-- whose Exchange accounts are bench<thread>-<n>@bench.example, from n = BENCH_FIRST + 1 (the warm-up's own range).
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
function base64(data)
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#data % 3 + 1])
end

local threads = {}
local counter = tonumber(os.getenv("BENCH_FIRST") or "0")
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function next_index()
  counter = counter + 1
  return counter
end
