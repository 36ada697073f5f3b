--[[
quarto-compat.lua: the Quarto markdown features the wps-evidence briefs use, for plain pandoc.

Shortcodes ({{< var >}}, {{< meta >}}, {{< include >}}) are resolved before pandoc runs
(analysis/render/quarto_md.py). This filter handles what is left:
  * callouts  ::: {.callout-note|tip|important|warning|caution title="..."}
  * ::: {.content-visible when-format="..."} and .content-hidden (unless-format too)
  * figures: fig-alt becomes the image's alt text; typst gets image(..., alt: ...)
  * docx: an SVG image is swapped for its PNG sibling (Word needs a raster fallback)
  * ::: {.small} blocks are set in a smaller type size in typst, their tables smaller still with
    tighter rows (the provenance appendix keeps a brief within four pages)
Under Quarto (the global `quarto` exists) only the docx SVG swap runs: Quarto does the rest.
]]

local in_quarto = (quarto ~= nil)
local fmt = FORMAT or ""

local function is_html() return fmt:match("html") ~= nil end
local function is_typst() return fmt == "typst" end
local function is_docx() return fmt == "docx" end

local function format_matches(name)
  if name == "html" then return is_html() end
  if name == "pdf" or name == "typst" then return is_typst() or fmt == "latex" end
  if name == "docx" then return is_docx() end
  return name == fmt
end

local function any_matches(spec)
  for name in string.gmatch(spec or "", "[^%s,]+") do
    if format_matches(name) then return true end
  end
  return false
end

local function typst_string(s)
  return '"' .. s:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", " ") .. '"'
end

local function typst_inlines(inlines)
  local out = pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), "typst")
  return (out:gsub("%s+$", ""))
end

local function typst_blocks(blocks)
  local out = pandoc.write(pandoc.Pandoc(blocks), "typst")
  return (out:gsub("%s+$", ""))
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function png_for_docx(img)
  if is_docx() and img.src:match("%.svg$") then
    local png = img.src:gsub("%.svg$", ".png")
    if file_exists(png) then img.src = png end
  end
  return img
end

local callout_kinds = { note = true, tip = true, important = true, warning = true, caution = true }

local function callout_kind(div)
  for _, cls in ipairs(div.classes) do
    local kind = cls:match("^callout%-(%a+)$")
    if kind and callout_kinds[kind] then return kind end
  end
  return nil
end

local function callout(div, kind)
  local content = div.content
  local title = nil
  if div.attributes["title"] then
    title = pandoc.Inlines(div.attributes["title"])
  elseif #content > 0 and content[1].t == "Header" then
    title = content[1].content
    content = pandoc.Blocks({ table.unpack(content, 2) })
  end
  if is_typst() then
    local head = "#wps-callout(kind: " .. typst_string(kind)
    if title then head = head .. ", title: [" .. typst_inlines(title) .. "]" end
    local blocks = pandoc.Blocks({ pandoc.RawBlock("typst", head .. ")[") })
    blocks:extend(content)
    blocks:insert(pandoc.RawBlock("typst", "]"))
    return blocks
  elseif is_docx() then
    local blocks = pandoc.Blocks({})
    if title then
      blocks:insert(pandoc.Div({ pandoc.Para(title) }, { ["custom-style"] = "Callout Title" }))
    end
    blocks:insert(pandoc.Div(content, { ["custom-style"] = "Callout Text" }))
    return blocks
  else
    local inner = pandoc.Blocks({})
    if title then
      inner:insert(pandoc.Div({ pandoc.Para({ pandoc.Strong(title) }) }, { class = "callout-title" }))
    end
    inner:insert(pandoc.Div(content, { class = "callout-body" }))
    local attr = pandoc.Attr(div.identifier, { "callout", "callout-" .. kind }, { role = "note" })
    if title then attr.attributes["aria-label"] = pandoc.utils.stringify(title) end
    return pandoc.Div(inner, attr)
  end
end

local function Div(div)
  if div.classes:includes("content-visible") or div.classes:includes("content-hidden") then
    local visible = div.classes:includes("content-visible")
    local when = div.attributes["when-format"]
    local unless = div.attributes["unless-format"]
    local show
    if when then
      show = any_matches(when)
    elseif unless then
      show = not any_matches(unless)
    else
      show = true
    end
    if not visible then show = not show end
    if show then return div.content end
    return {}
  end
  local kind = callout_kind(div)
  if kind then return callout(div, kind) end
  if div.classes:includes("small") and is_typst() then
    local blocks = pandoc.Blocks({ pandoc.RawBlock("typst", "#[#set text(8pt)\n#show table: set text(7pt)\n#set table(inset: (x: 4pt, y: 2pt))") })
    blocks:extend(div.content)
    blocks:insert(pandoc.RawBlock("typst", "]"))
    return blocks
  end
  return nil
end

local function Image(img)
  local alt = img.attributes["fig-alt"]
  if alt then
    img.caption = pandoc.Inlines(alt)
    img.attributes["fig-alt"] = nil
  end
  return png_for_docx(img)
end

local function Figure(fig)
  if not is_typst() then return nil end
  local img = nil
  pandoc.walk_block(fig, { Image = function(i) img = img or i end })
  if not img then return nil end
  local alt = img.attributes["fig-alt"] or pandoc.utils.stringify(img.caption)
  local width = img.attributes["width"] or "92%"
  local code = "#figure(image(" .. typst_string(img.src) .. ", width: " .. width
  if alt ~= "" then code = code .. ", alt: " .. typst_string(alt) end
  code = code .. "), caption: [" .. typst_blocks(fig.caption.long) .. "])"
  if fig.identifier ~= "" then code = code .. " <" .. fig.identifier .. ">" end
  return pandoc.RawBlock("typst", code)
end

if in_quarto then
  return { { Image = png_for_docx } }
end

return {
  { Div = Div },
  { Figure = Figure },
  { Image = Image },
}
