#!/usr/bin/env bash
# Installs the editors users run today next to the system ones, for the end-to-end tests: Neovim 0.10 and
# Helix 25.01 from Debian 13 (trixie). They need trixie's glibc, so they are unpacked into a private folder and
# started through that folder's loader; nothing is installed into the system. Usage: install-current-editors.sh DIR
# → DIR/bin/nvim-current and DIR/bin/hx.
set -euo pipefail
dir=$(realpath -m "${1:?usage: install-current-editors.sh DIR}")
if [ -x "$dir/bin/nvim-current" ] && [ -x "$dir/bin/hx" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/etc" "$work/state/lists/partial" "$work/cache/archives/partial" "$work/debs" "$dir/root" "$dir/bin"
echo 'deb http://deb.debian.org/debian trixie main' > "$work/etc/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State=$work/state" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${apt_options[@]}" update -qq
(cd "$work/debs" && apt-get "${apt_options[@]}" download hx libc6 libgcc-s1 neovim neovim-runtime libluajit-5.1-2 \
  libmsgpack-c2 libtree-sitter0.22 libunibilium4 libuv1t64 libvterm0 lua-lpeg lua-luv libutf8proc3)
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$dir/root"; done
root="$dir/root"
cat > "$dir/bin/nvim-current" <<SCRIPT
#!/bin/sh
VIMRUNTIME="$root/usr/share/nvim/runtime" exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/bin/nvim" "\$@"
SCRIPT
cat > "$dir/bin/hx" <<SCRIPT
#!/bin/sh
exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/bin/hx" "\$@"
SCRIPT
chmod +x "$dir/bin/nvim-current" "$dir/bin/hx"
"$dir/bin/nvim-current" --version | head -1
"$dir/bin/hx" --version
