#!/usr/bin/env bash
# Nightly backup of the stock database to the NAS; keeps the last 14 copies.
set -euo pipefail

DB="${STOCK_DB:-/srv/inventory/stock.sqlite}"
DEST="${BACKUP_DIR:-/mnt/nas/backups/inventory}"
KEEP=14

stamp="$(date +%Y-%m-%d)"
mkdir -p "$DEST"

# sqlite3 .backup makes a consistent copy even while the database is in use.
sqlite3 "$DB" ".backup '$DEST/stock-$stamp.sqlite'"
gzip -f "$DEST/stock-$stamp.sqlite"

ls -1t "$DEST"/stock-*.sqlite.gz | tail -n +$((KEEP + 1)) | xargs -r rm --
echo "backup written: $DEST/stock-$stamp.sqlite.gz"
