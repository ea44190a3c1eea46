#!/usr/bin/env bash
# Installs gymhub as a systemd service on Raspberry Pi OS / Debian, or removes it (SPEC section 10).
# Idempotent: run it again to upgrade; the configuration and its API token are kept.
set -euo pipefail

readonly MIN_NODE_MAJOR=20
readonly SERVICE_USER=gymhub
readonly SERVICE_NAME=gymhub.service
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SOURCE_DIR

usage() {
  cat <<'EOF'
Usage: sudo ./install.sh [--skip-build]
       sudo ./install.sh --uninstall [--purge]
       ./install.sh --prefix DIR --no-systemd [--skip-build] [--uninstall [--purge]]

Installs gymhub into /opt/gymhub and runs it as the systemd service gymhub.service under its own user:
checks Node.js >= 20, copies this folder (without node_modules, .git, data, dist), runs npm ci, builds,
prunes the dev dependencies, creates the gymhub user (in the dialout and bluetooth groups), writes
/etc/gymhub/config.json with a fresh API token if there is none yet (the token is printed that one time),
installs the unit, the udev rules for ESP32 USB boards and, when Mosquitto is installed, its gymhub
settings, then enables and (re)starts the service. Running it again upgrades and keeps the config.

Options:
  --uninstall     stop and remove the service, unit, udev rules, /opt/gymhub and the gymhub user;
                  keeps the data (/var/lib/gymhub) and the config (/etc/gymhub)
  --purge         with --uninstall: also delete the data and the config
  --prefix DIR    put every file under DIR (a scratch root for testing or an image); needs --no-systemd
  --no-systemd    no user, no chown to a missing user, no systemctl, no udevadm: files only
  --skip-build    do not run npm ci / build / prune (also GYMHUB_INSTALL_SKIP_NPM=1); the copy cannot
                  run until they are done, so this is for tests and for trees built beforehand
  -h, --help      this text
EOF
}

say() { printf 'install.sh: %s\n' "$*"; }
die() {
  printf 'install.sh: error: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'install.sh: %s\n\n' "$*" >&2
  usage >&2
  exit 2
}

prefix=""
use_systemd=1
action=install
purge=0
skip_build=0
[ "${GYMHUB_INSTALL_SKIP_NPM:-0}" = 1 ] && skip_build=1
new_token=""
mosquitto_changed=0

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --prefix)
        if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "--prefix needs a directory"; fi
        prefix=$2
        shift 2
        ;;
      --prefix=*) prefix=${1#--prefix=}; shift ;;
      --no-systemd) use_systemd=0; shift ;;
      --uninstall) action=uninstall; shift ;;
      --purge) purge=1; shift ;;
      --skip-build) skip_build=1; shift ;;
      -h | --help) usage; exit 0 ;;
      *) usage_error "unknown option: $1" ;;
    esac
  done
  if [ "$purge" = 1 ] && [ "$action" != uninstall ]; then usage_error "--purge goes with --uninstall"; fi
  if [ -n "$prefix" ]; then
    [ "$use_systemd" = 0 ] || usage_error "--prefix installs into a scratch root, where systemd cannot start anything: add --no-systemd"
    mkdir -p "$prefix"
    prefix=$(cd "$prefix" && pwd)
    [ "$prefix" != / ] || prefix=""
  fi
}

set_paths() {
  APP_DIR=$prefix/opt/gymhub
  CONFIG_DIR=$prefix/etc/gymhub
  CONFIG_FILE=$CONFIG_DIR/config.json
  DATA_DIR=$prefix/var/lib/gymhub
  UNIT_FILE=$prefix/etc/systemd/system/$SERVICE_NAME
  UDEV_RULES=$prefix/etc/udev/rules.d/99-gymhub-esp32.rules
  MOSQUITTO_DIR=$prefix/etc/mosquitto
  MOSQUITTO_SNIPPET=$MOSQUITTO_DIR/conf.d/gymhub.conf
}

# Files are handed to the service user only on this machine's own root: under --prefix (an image, a test)
# this machine's users mean nothing.
have_user() { [ -z "$prefix" ] && [ "$(id -u)" = 0 ] && getent passwd "$SERVICE_USER" >/dev/null; }

check_node() {
  NODE_BIN=$(command -v node || true)
  [ -n "$NODE_BIN" ] || die "gymhub needs Node.js >= $MIN_NODE_MAJOR and there is no node on PATH.
  Debian 12 / Raspberry Pi OS bookworm ship Node 18: install Node $MIN_NODE_MAJOR or newer (for example from
  NodeSource, or Debian 13's nodejs package), then run this again."
  local version
  version=$("$NODE_BIN" -p 'process.versions.node')
  if [ "${version%%.*}" -lt "$MIN_NODE_MAJOR" ]; then
    die "gymhub needs Node.js >= $MIN_NODE_MAJOR; $NODE_BIN is $version.
  Debian 12 / Raspberry Pi OS bookworm ship Node 18: install Node $MIN_NODE_MAJOR or newer (for example from
  NodeSource, or Debian 13's nodejs package), then run this again."
  fi
  case "$(readlink -f "$NODE_BIN")" in
    /home/* | /root/*)
      [ "$use_systemd" = 0 ] || die "node ($NODE_BIN) lives under a home directory, which the service cannot see (ProtectHome=yes).
  Install Node.js system-wide (for example /usr/bin/node from NodeSource), then run this again."
      ;;
  esac
  if [ "$skip_build" = 0 ]; then command -v npm >/dev/null || die "npm is missing (it comes with Node.js)"; fi
  say "Node.js $version at $NODE_BIN"
}

ensure_user() {
  if ! getent passwd "$SERVICE_USER" >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/gymhub --no-create-home --shell /usr/sbin/nologin \
      --comment "gymhub daemon" "$SERVICE_USER"
    say "created the system user $SERVICE_USER"
  fi
  local group
  for group in dialout bluetooth; do
    if getent group "$group" >/dev/null; then usermod -a -G "$group" "$SERVICE_USER"; fi
  done
}

# Builds the new tree beside the old one and swaps them, so a failed npm ci or build leaves the running
# install untouched.
install_app() {
  local stage=$APP_DIR.new
  rm -rf "$stage" "$APP_DIR.old"
  mkdir -p "$stage"
  # What the service runs and builds from, nothing else: not tests, benches, data or a checkout's scratch files.
  local parts=(bin daemon drivers models sync web deploy install.sh package.json package-lock.json tsconfig.json tsconfig.build.json README.md)
  tar -C "$SOURCE_DIR" -cf - "${parts[@]}" | tar -C "$stage" --no-same-owner -xf -
  chmod -R u+rwX,go+rX,go-w "$stage"
  if [ "$skip_build" = 1 ]; then
    say "skipping npm ci and the build (--skip-build): $APP_DIR cannot run until they are done"
  else
    say "npm ci, build and prune in $APP_DIR (this takes a few minutes on a Pi)"
    # The build needs typescript, a dev dependency: install everything, build, then drop the dev tools.
    (cd "$stage" && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund)
  fi
  if [ -d "$APP_DIR" ]; then mv "$APP_DIR" "$APP_DIR.old"; fi
  mv "$stage" "$APP_DIR"
  rm -rf "$APP_DIR.old"
  say "installed into $APP_DIR"
}

ensure_data_dir() {
  mkdir -p "$DATA_DIR"
  chmod 0750 "$DATA_DIR"
  if have_user; then chown "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"; fi
}

# A fresh token only when there is no config at all: a second run must not change what the app already uses.
ensure_config() {
  mkdir -p "$CONFIG_DIR"
  chmod 0755 "$CONFIG_DIR"
  if [ -e "$CONFIG_FILE" ]; then
    say "keeping $CONFIG_FILE and its API token"
  else
    local embedded=0 tmp
    # Without Mosquitto the hub runs its own broker on 1883, so devices have somewhere to publish.
    [ -d "$MOSQUITTO_DIR" ] || embedded=1
    tmp=$(mktemp "$CONFIG_DIR/.config.json.XXXXXX")
    if ! new_token=$(GYMHUB_EMBEDDED_BROKER=$embedded "$NODE_BIN" -e '
      const { randomBytes } = require("node:crypto");
      const { writeFileSync } = require("node:fs");
      const token = randomBytes(32).toString("base64url");
      const config = { api: { token } };
      if (process.env.GYMHUB_EMBEDDED_BROKER === "1") config.mqtt = { embeddedPort: 1883 };
      writeFileSync(process.argv[1], JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
      process.stdout.write(token);
    ' "$tmp"); then
      rm -f "$tmp"
      die "could not write $CONFIG_FILE"
    fi
    mv -f "$tmp" "$CONFIG_FILE"
    say "wrote $CONFIG_FILE with a fresh API token"
    if [ "$embedded" = 1 ]; then say "no Mosquitto found: the config starts gymhub's embedded MQTT broker on port 1883"; fi
  fi
  # SPEC section 12: the config holds the token, so only the service user may read it.
  chmod 0600 "$CONFIG_FILE"
  if have_user; then chown "$SERVICE_USER:$SERVICE_USER" "$CONFIG_FILE"; fi
}

print_new_token() {
  [ -n "$new_token" ] || return 0
  cat <<EOF

  gymhub API token (shown this once; it is also in /etc/gymhub/config.json, readable by root and gymhub):

    $new_token

  The gym's app sends it as: Authorization: Bearer <token>

EOF
}

install_system_files() {
  mkdir -p "$(dirname "$UNIT_FILE")" "$(dirname "$UDEV_RULES")"
  local unit_tmp
  unit_tmp=$(mktemp)
  # The unit names /usr/bin/node; point it at the node that was checked instead.
  sed "s|^ExecStart=/usr/bin/node |ExecStart=$NODE_BIN |" "$APP_DIR/deploy/gymhub.service" >"$unit_tmp"
  install -m 0644 "$unit_tmp" "$UNIT_FILE"
  rm -f "$unit_tmp"
  install -m 0644 "$APP_DIR/deploy/99-gymhub-esp32.rules" "$UDEV_RULES"
  say "installed $UNIT_FILE and $UDEV_RULES"
  install_mosquitto_snippet
}

install_mosquitto_snippet() {
  [ -d "$MOSQUITTO_DIR/conf.d" ] || return 0
  local file
  for file in "$MOSQUITTO_DIR/mosquitto.conf" "$MOSQUITTO_DIR"/conf.d/*.conf; do
    if [ ! -f "$file" ] || [ "$file" = "$MOSQUITTO_SNIPPET" ]; then continue; fi
    if grep -qE '^[[:space:]]*(listener|port)[[:space:]]' "$file"; then
      say "Mosquitto already has a listener in $file: not adding gymhub's settings; compare its queue limits with $APP_DIR/deploy/mosquitto-gymhub.conf"
      return 0
    fi
  done
  if cmp -s "$APP_DIR/deploy/mosquitto-gymhub.conf" "$MOSQUITTO_SNIPPET"; then return 0; fi
  install -m 0644 "$APP_DIR/deploy/mosquitto-gymhub.conf" "$MOSQUITTO_SNIPPET"
  mosquitto_changed=1
  say "installed $MOSQUITTO_SNIPPET: Mosquitto listens on port 1883 of every interface, without queue limits"
}

start_service() {
  if command -v udevadm >/dev/null; then
    udevadm control --reload-rules || say "udevadm could not reload its rules; replug the ESP32 boards"
    udevadm trigger --subsystem-match=tty --action=add || true
  fi
  systemctl daemon-reload
  if [ "$mosquitto_changed" = 1 ] && systemctl is-active --quiet mosquitto.service; then systemctl restart mosquitto.service; fi
  systemctl enable --quiet "$SERVICE_NAME"
  # Type=notify: this returns once gymhub said READY=1, or fails.
  if ! systemctl restart "$SERVICE_NAME"; then
    journalctl --unit "$SERVICE_NAME" --lines 40 --no-pager >&2 || true
    die "$SERVICE_NAME did not start; the log is above"
  fi
  say "$SERVICE_NAME is running: systemctl status gymhub, journalctl -u gymhub -f"
}

do_install() {
  check_node
  if [ "$use_systemd" = 1 ]; then ensure_user; fi
  install_app
  ensure_data_dir
  trap print_new_token EXIT
  ensure_config
  install_system_files
  if [ "$use_systemd" = 1 ]; then
    start_service
  else
    say "--no-systemd: nothing was started"
  fi
  say "the example configuration with every setting: $APP_DIR/deploy/config.example.json"
}

do_uninstall() {
  if [ "$use_systemd" = 1 ] && [ -f "$UNIT_FILE" ]; then
    systemctl disable --now --quiet "$SERVICE_NAME" || true
  fi
  rm -f "$UNIT_FILE" "$UDEV_RULES"
  if [ -f "$MOSQUITTO_SNIPPET" ] && grep -q '^# gymhub: Mosquitto settings' "$MOSQUITTO_SNIPPET"; then
    rm -f "$MOSQUITTO_SNIPPET"
    if [ "$use_systemd" = 1 ] && systemctl is-active --quiet mosquitto.service; then systemctl restart mosquitto.service; fi
  fi
  rm -rf "$APP_DIR" "$APP_DIR.new" "$APP_DIR.old"
  if [ "$use_systemd" = 1 ]; then
    systemctl daemon-reload
    if command -v udevadm >/dev/null; then udevadm control --reload-rules || true; fi
    if getent passwd "$SERVICE_USER" >/dev/null; then userdel "$SERVICE_USER"; fi
  fi
  if [ "$purge" = 1 ]; then
    rm -rf "$DATA_DIR" "$CONFIG_DIR"
    say "removed gymhub, its data and its configuration"
  else
    say "removed gymhub; kept the data in $DATA_DIR and the configuration in $CONFIG_DIR (--uninstall --purge deletes them)"
  fi
}

main() {
  parse_args "$@"
  set_paths
  if [ "$use_systemd" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "run as root: sudo $0 $*"
    command -v systemctl >/dev/null || die "systemctl not found: this needs systemd (or --no-systemd for files only)"
  fi
  if [ "$action" = uninstall ]; then do_uninstall; else do_install; fi
}

# Called on the last line, so bash has read the whole file before it acts: an upgrade or --uninstall run from
# /opt/gymhub may replace or delete this very file.
main "$@"
