-- :checkhealth codeloop
local M = {}

local health = vim.health or require('health')
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local err = health.error or health.report_error
local start = health.start or health.report_start

function M.check()
  start('codeloop')
  if vim.fn.has('nvim-0.9') == 1 then ok('Neovim ' .. tostring(vim.version())) else warn('Neovim 0.9+ is recommended (0.7/0.8 work through start_client)') end
  if vim.fn.executable('codeloop') == 0 then
    return err('`codeloop` is not on PATH: install it (npm install -g codeloop) or set cmd in setup{}')
  end
  ok('codeloop found at ' .. vim.fn.exepath('codeloop'))
  local output = vim.fn.system({ 'codeloop', 'doctor', '--json' })
  local decoded_ok, report = pcall(vim.fn.json_decode, output)
  if not decoded_ok or type(report) ~= 'table' then return err('codeloop doctor failed: ' .. output) end
  for _, check in ipairs(report.checks) do
    if check.ok then ok(check.name .. ': ' .. check.detail) else warn(check.name .. ': ' .. check.detail) end
  end
end

return M
