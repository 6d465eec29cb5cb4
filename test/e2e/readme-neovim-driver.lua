-- Runs codeloop's flow in a Neovim configured only by a README snippet (the user's init.lua): the snippet must
-- attach a client named codeloop to the file given on the command line; then a comment task, apply, save.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')

run(function(out)
  local function codeloop_client()
    local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = 0 }) or vim.lsp.buf_get_clients(0)
    for _, client in pairs(clients) do
      if client.name == 'codeloop' and client.server_capabilities and next(client.server_capabilities) then return client end
    end
  end
  assert(vim.wait(30000, function() return codeloop_client() ~= nil end), 'the snippet attached no codeloop client to ' .. vim.api.nvim_buf_get_name(0))
  local client = codeloop_client()
  local actions = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-code-actions.lua')(client)
  local task
  assert(vim.wait(20000, function() task = actions.find('codeloop: Run task in comment'); return task ~= nil end), 'no comment task offered')
  out.task = task.title
  actions.execute(task)
  local apply
  assert(vim.wait(40000, function() apply = actions.find('codeloop: Apply proposal'); return apply ~= nil end), 'no proposal offered')
  out.apply = apply.title
  out.applied = actions.execute(apply)
  vim.cmd('wall')
end)
