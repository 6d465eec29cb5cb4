-- Shared by the Neovim drivers: runs a scenario, writes { status, error?, …fields } as JSON to E2E_OUT, quits.
return function(scenario)
  local out = {}
  local ok, err = pcall(scenario, out)
  out.status = ok and 'ok' or 'error'
  if not ok then out.error = tostring(err) end
  local file = io.open(os.getenv('E2E_OUT'), 'w')
  file:write(vim.fn.json_encode(out))
  file:close()
  vim.cmd('qa!')
end
