-- The tenant-token endpoint, as every SDK calls it.
dofile(os.getenv("BENCH_DIR") .. "/wrk/report.lua")
request = function()
  return wrk.format("POST", "/open-apis/auth/v3/tenant_access_token/internal", { ["Content-Type"] = "application/json" },
    os.getenv("BENCH_TOKEN_BODY"))
end
