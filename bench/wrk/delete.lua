-- DELETE the bindings the create run made, in the same order.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local n = next_index()
  local id = base64(string.format("email_admin_example@outlook.com bench%d-%d@bench.example", tid, n))
  return wrk.format("DELETE", "/open-apis/calendar/v4/exchange_bindings/" .. id,
    { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") })
end
