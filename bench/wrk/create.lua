-- POST create, a distinct account and user every request.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
request = function()
  local n = next_index()
  local body = string.format('{"admin_account":"email_admin_example@outlook.com","exchange_account":"bench%d-%d@bench.example","user_id":"b%d%07d"}', tid, n, tid, n)
  return wrk.format("POST", "/open-apis/calendar/v4/exchange_bindings?user_id_type=user_id",
    { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"), ["Content-Type"] = "application/json" }, body)
end
