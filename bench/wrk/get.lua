-- GET one binding, authenticated.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
request = function()
  return wrk.format("GET", os.getenv("BENCH_GET_PATH"), { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") })
end
