-- Nothing starts until require('codeloop').setup{} is called from the user's config.
if vim.g.loaded_codeloop then return end
vim.g.loaded_codeloop = true
