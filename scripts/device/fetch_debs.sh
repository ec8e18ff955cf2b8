#!/usr/bin/env bash
# Prepares, on this (Debian bookworm) machine, what the engine needs to build and link on the GPU
# machine, which has a compiler, CUDA and a pip PyTorch but no Qt, no Debian -dev packages and no
# network: the Debian packages are downloaded with `apt-get download` into .deps/device-debs/ (a
# cache, not carried) and unpacked with `dpkg -x` into .deps/device/root/, beside a generated
# .deps/device/env.sh that scripts/device/run.sh sources. The `run` tool takes the folder along
# with carry [".deps/device"] (docs/device.md). Nothing is installed on this machine.
#
# Layout of .deps/device/root:
#   usr/include, usr/lib/x86_64-linux-gnu   sndfile (+ codecs), soxr, sqlite3, xxhash,
#   usr/share/cmake/nlohmann_json            nlohmann-json, as Debian ships them; .pc files made
#   usr/share/pkgconfig                      relocatable with ${pcfiledir}
#   usr/bin/pkgconf, usr/bin/ninja           tools, in case the GPU machine lacks them
#   opt/gomp                                 libgomp, soxr's fallback (not on LD_LIBRARY_PATH)
#   opt/cmake/{bin,share,lib}                CMake 3.25 and the libraries it links that a plain
#                                            Ubuntu may lack, used only when the machine's own
#                                            cmake is missing or older than 3.22
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$REPO/.deps/device-debs
FINAL=$REPO/.deps/device
NEW=$REPO/.deps/device.new # built here, then swapped in: a failed run leaves the old one whole
OUT=$NEW
ROOT=$OUT/root
MULTIARCH=x86_64-linux-gnu
LIMIT_MIB=40

# What the engine compiles and links against (headers, .so, .pc / CMake config).
ENGINE=(
  libsndfile1-dev libsndfile1 libflac12 libogg0 libvorbis0a libvorbisenc2 libopus0 libmpg123-0 libmp3lame0
  libsoxr-dev libsoxr0 libgomp1
  libsqlite3-dev libsqlite3-0
  libxxhash-dev libxxhash0
  nlohmann-json3-dev
)
TOOLS=(pkgconf pkgconf-bin libpkgconf3 ninja-build)
# CMake and the libraries it links that are not in a plain Ubuntu/Debian base system.
CMAKE_PKGS=(
  cmake cmake-data libjsoncpp25 librhash0 libuv1 libarchive13 libcurl4
  libnghttp2-14 librtmp1 libssh2-1 libpsl5 libldap-2.5-0 libsasl2-2 libbrotli1
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0
)
# Only used here, to set RUNPATHs; not carried.
HELPERS=(patchelf)

# Sonames the unpacked files may need from the GPU machine itself: glibc, the GCC runtime and
# libraries of any Debian/Ubuntu base system (what apt, python3 and gcc already pull in).
BASE_SONAMES="libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2 ld-linux-x86-64.so.2
libgcc_s.so.1 libstdc++.so.6 libz.so.1 libzstd.so.1 liblzma.so.5 liblz4.so.1 libbz2.so.1.0 libacl.so.1
libexpat.so.1 libssl.so.3 libcrypto.so.3 libgnutls.so.30 libnettle.so.8 libhogweed.so.6 libgmp.so.10
libidn2.so.0 libunistring.so.2 libcom_err.so.2 libkeyutils.so.1"
# The one library the fallback CMake needs that we cannot carry cheaply (libxml2 drags in 30 MB
# of ICU 72); run.sh checks it with ldd before using that CMake.
FALLBACK_ONLY_SONAMES="libxml2.so.2"

say() { echo "fetch_debs: $*" >&2; }
die() { echo "fetch_debs: error: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg dpkg-deb readelf; do
  command -v "$tool" >/dev/null || die "$tool not found (this script runs on Debian bookworm)"
done

# apt's package lists: present after any `apt-get update`; refresh them only when missing.
if ! apt-cache show --no-all-versions libsndfile1-dev >/dev/null 2>&1; then
  say "no package lists: running apt-get update"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
fi

# The runtime dependencies of the shared libraries must all be in ENGINE (or the base system).
check_depends() {
  local pkg=$1 dep
  for dep in $(apt-cache depends "$pkg" | awk '/^ *(Pre)?Depends:/ {print $2}' | tr -d '<>'); do
    case " ${ENGINE[*]} libc6 libgcc-s1 libstdc++6 " in
      *" $dep "*) ;;
      *) case "$dep" in
           *-dev|libc-dev) ;; # compile-time only (libsndfile1-dev's codec -dev packages, see below)
           *) die "$pkg depends on $dep, which is not in the ENGINE list of $0" ;;
         esac ;;
    esac
  done
}
for p in libsndfile1 libsoxr0 libsqlite3-0 libxxhash0 libflac12 libvorbis0a libvorbisenc2 libopus0 libmpg123-0 libmp3lame0; do
  check_depends "$p"
done

# Download what is not cached yet (the cache keeps one version of each package).
mkdir -p "$CACHE"
chmod 755 "$CACHE"
APT_OPTS=()
[ "$(id -u)" -ne 0 ] || APT_OPTS=(-o APT::Sandbox::User=root) # root writing into a folder _apt can't
ALL=("${ENGINE[@]}" "${TOOLS[@]}" "${CMAKE_PKGS[@]}" "${HELPERS[@]}")
declare -A VERSION=()
while read -r p v; do VERSION[$p]=$v; done < <(
  apt-cache show --no-all-versions "${ALL[@]}" | awk '/^Package:/ {p = $2} /^Version:/ {print p, $2}')
deb_of() { # the cached .deb of the candidate version, or nothing
  local v=${VERSION[$1]:-}
  [ -n "$v" ] || die "package $1 is unknown to apt here"
  compgen -G "$CACHE/${1}_${v//:/%3a}_*.deb" | head -1
}
missing=()
for p in "${ALL[@]}"; do
  [ -n "$(deb_of "$p")" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "downloading ${#missing[@]} packages: ${missing[*]}"
  (cd "$CACHE" && apt-get "${APT_OPTS[@]}" -q download "${missing[@]}")
fi

# Unpack into a staging folder per group, then lay out the root.
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE" "$NEW"' EXIT
unpack() { # group packages...
  local group=$1 p
  shift
  mkdir -p "$STAGE/$group"
  for p in "$@"; do dpkg -x "$(deb_of "$p")" "$STAGE/$group"; done
}
unpack engine "${ENGINE[@]}"
unpack tools "${TOOLS[@]}"
unpack cmake "${CMAKE_PKGS[@]}"
unpack helpers "${HELPERS[@]}"
PATCHELF="$STAGE/helpers/usr/bin/patchelf"
[ -x "$PATCHELF" ] || die "patchelf did not unpack"

rm -rf "$OUT"
mkdir -p "$ROOT/usr/bin" "$ROOT/usr/lib/$MULTIARCH" "$ROOT/usr/share" "$ROOT/opt/cmake/bin" "$ROOT/opt/cmake/lib"
LIB=$ROOT/usr/lib/$MULTIARCH

# Engine: headers, libraries, .pc files and nlohmann_json's CMake package.
cp -a "$STAGE/engine/usr/include" "$ROOT/usr/"
cp -a "$STAGE/engine/usr/lib/$MULTIARCH/." "$LIB/"
cp -a "$STAGE/engine/usr/share/pkgconfig" "$STAGE/engine/usr/share/cmake" "$ROOT/usr/share/"
rm -rf "$ROOT/usr/share/cmake/debtoolchainfilegen"
# Dynamic linking only: static archives and the libsamplerate-style soxr binding are not needed.
rm -f "$LIB"/*.a "$LIB"/libsoxr-lsr.so* "$LIB/pkgconfig/soxr-lsr.pc" "$ROOT/usr/include/soxr-lsr.h"

# Tools: pkgconf (with its library) and ninja.
cp -a "$STAGE/tools/usr/bin/pkgconf" "$STAGE/tools/usr/bin/pkg-config" "$STAGE/tools/usr/bin/ninja" "$ROOT/usr/bin/"
cp -a "$STAGE/tools/usr/lib/$MULTIARCH/." "$LIB/"

# CMake (fallback): the binary, its modules and templates (not its 9 MB of help), its libraries.
cp -a "$STAGE/cmake/usr/bin/cmake" "$ROOT/opt/cmake/bin/"
mkdir -p "$ROOT/opt/cmake/share"
cp -a "$STAGE/cmake/usr/share/cmake-"* "$ROOT/opt/cmake/share/"
rm -rf "$ROOT/opt/cmake/share/cmake-"*/Help
for so in "$STAGE"/cmake/usr/lib/$MULTIARCH/*.so.* "$STAGE"/cmake/lib/$MULTIARCH/*.so.*; do
  [ -e "$so" ] && cp -a "$so" "$ROOT/opt/cmake/lib/"
done

# .pc files: every absolute /usr becomes ${pcfiledir}/<up to usr>, so they work wherever the
# folder lands. sndfile.pc's Requires.private/Libs.private name the codecs' -dev packages
# (flac, ogg, vorbis, opus, libmpg123, mp3lame), which pkg-config insists on even for dynamic
# linking; we only link dynamically, so those lines go (the codec .so files are carried).
fix_pc() {
  local pc=$1 rel
  case "$pc" in
    "$LIB"/pkgconfig/*) rel='../../..' ;;
    "$ROOT"/usr/share/pkgconfig/*) rel='../..' ;;
    *) die "unexpected .pc location $pc" ;;
  esac
  sed -i -E "s#(=|-I|-L)/usr(/|\$|[[:space:]])#\\1\${pcfiledir}/$rel\\2#g" "$pc"
  grep -q '/usr' "$pc" && die "$pc still names /usr after the fix-up"
  return 0
}
for pc in "$LIB"/pkgconfig/*.pc "$ROOT"/usr/share/pkgconfig/*.pc; do fix_pc "$pc"; done
sed -i -E '/^(Requires|Libs)\.private:/d' "$LIB/pkgconfig/sndfile.pc"

# libgomp (soxr's OpenMP runtime) stays out of usr/lib, which env.sh puts on LD_LIBRARY_PATH:
# there it would replace, for libtorch too, the newer libgomp the machine or PyTorch brings.
# soxr finds it through its RUNPATH only when no other libgomp is loaded or installed.
mkdir -p "$ROOT/opt/gomp"
mv "$LIB"/libgomp.so.1* "$ROOT/opt/gomp/"

# RUNPATHs, so nothing needs LD_LIBRARY_PATH to find its own dependencies: every library looks
# beside itself, pkgconf and ninja in usr/lib, CMake in opt/cmake/lib.
is_elf() { [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c 4 "$1")" = $'\x7fELF' ]; }
for f in "$LIB"/*.so.* "$ROOT"/opt/cmake/lib/*.so.*; do
  is_elf "$f" && "$PATCHELF" --set-rpath '$ORIGIN' "$f"
done
for f in "$LIB"/libsoxr.so.*; do
  is_elf "$f" && "$PATCHELF" --set-rpath '$ORIGIN:$ORIGIN/../../../opt/gomp' "$f"
done
"$PATCHELF" --set-rpath "\$ORIGIN/../lib/$MULTIARCH" "$ROOT/usr/bin/pkgconf"
"$PATCHELF" --set-rpath '$ORIGIN/../lib' "$ROOT/opt/cmake/bin/cmake"

# Every library an unpacked binary needs must be unpacked beside it or be a base-system one.
check_needed() { # dir-of-libs files...
  local libs=$1 f n bad=0
  shift
  for f in "$@"; do
    is_elf "$f" || continue
    for n in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      [ -e "$libs/$n" ] && continue
      [ "$n" = libgomp.so.1 ] && [ -e "$ROOT/opt/gomp/$n" ] && continue
      case " $(echo $BASE_SONAMES) " in *" $n "*) continue ;; esac
      if [ "$libs" = "$ROOT/opt/cmake/lib" ] && [ "$n" = "$FALLBACK_ONLY_SONAMES" ]; then continue; fi
      say "${f#$ROOT/} needs $n, which is neither carried nor a base-system library"
      bad=1
    done
  done
  return $bad
}
check_needed "$LIB" "$LIB"/*.so.* "$ROOT"/usr/bin/* || die "a carried engine library or tool lacks a dependency"
check_needed "$ROOT/opt/cmake/lib" "$ROOT"/opt/cmake/lib/*.so.* "$ROOT/opt/cmake/bin/cmake" ||
  die "the carried CMake lacks a dependency"

# A record of what is carried.
{
  echo "# Debian bookworm packages unpacked into root/ by scripts/device/fetch_debs.sh"
  for p in "${ENGINE[@]}" "${TOOLS[@]}" "${CMAKE_PKGS[@]}"; do
    basename "$(deb_of "$p")"
  done
} >"$OUT/PACKAGES"

cat >"$OUT/env.sh" <<'ENV'
# Generated by scripts/device/fetch_debs.sh. Source it from bash: it points pkg-config, CMake and
# the dynamic loader at the Debian packages unpacked in root/ beside this file, wherever this
# folder lies (the GPU machine gets it at another absolute path). The machine's own cmake and
# ninja stay first on PATH; ours are the fallback.
GAFX_DEVICE_DEPS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GAFX_DEVICE_ROOT=$GAFX_DEVICE_DEPS/root
export GAFX_DEVICE_DEPS GAFX_DEVICE_ROOT
export PATH=${PATH:+$PATH:}$GAFX_DEVICE_ROOT/usr/bin:$GAFX_DEVICE_ROOT/opt/cmake/bin
export LD_LIBRARY_PATH=$GAFX_DEVICE_ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# CMake's FindPkgConfig takes the program from PKG_CONFIG; LIBDIR (not just PATH) keeps any
# system .pc files out, so exactly the carried packages are used.
export PKG_CONFIG=$GAFX_DEVICE_ROOT/usr/bin/pkgconf
export PKG_CONFIG_LIBDIR=$GAFX_DEVICE_ROOT/usr/lib/x86_64-linux-gnu/pkgconfig:$GAFX_DEVICE_ROOT/usr/share/pkgconfig
export PKG_CONFIG_PATH=$PKG_CONFIG_LIBDIR
export CMAKE_PREFIX_PATH=$GAFX_DEVICE_ROOT/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
ENV

# Smoke test: the carried pkgconf resolves every module the engine asks for, from the root.
(
  # shellcheck source=/dev/null
  source "$OUT/env.sh"
  for m in sndfile soxr sqlite3 libxxhash nlohmann_json; do
    flags=$("$PKG_CONFIG" --cflags --libs "$m") || die "pkgconf cannot resolve $m"
    case "$flags" in *"$ROOT"*) ;; *) die "pkgconf resolved $m outside the root: $flags" ;; esac
  done
  "$ROOT/opt/cmake/bin/cmake" --version >/dev/null || die "the carried cmake does not start"
)

rm -rf "$FINAL"
mv "$NEW" "$FINAL"
OUT=$FINAL
ROOT=$OUT/root
bytes=$(du -sb "$OUT" | cut -f1)
mib=$(( (bytes + 1048575) / 1048576 ))
say "carried folder .deps/device: $mib MiB ($bytes bytes), $(wc -l <"$OUT/PACKAGES") lines in PACKAGES"
du -sh "$ROOT/usr" "$ROOT/opt/cmake" "$ROOT/opt/gomp" >&2
[ "$mib" -le "$LIMIT_MIB" ] || die "$mib MiB is over the $LIMIT_MIB MiB meant for the carry (64 MiB for everything)"
echo "$OUT"
