#!/bin/sh
# Books two 成人票 for tomorrow at the demo's scenic area (supplier JQ01) as the demo agent and
# pays from its deposit account in one step (OrderAndPayWithYDJ.aspx), then reads the order
# back (QueryOrder.aspx). Needs sh, curl, openssl, md5sum, od, base64 and date (GNU or BSD).
#
#   BASE=http://127.0.0.1:8080 sh docs/examples/ybx-book.sh
set -eu
BASE=${BASE:-http://127.0.0.1:8080}
AGENT=demo-agent
KEY=6F9619FF-8B86-D011-B42D-00C04FC964FF   # the agent's data key
LOGIN_PASSWORD=demo-pass
PAY_PASSWORD=123456
ADULT=8A1F0C2E-0001-4C6B-9E51-3D2A7B000001   # 成人票, 120.00

# MD5, upper-case hex.
md5() { printf '%s' "$1" | md5sum | cut -c1-32 | tr 'a-f' 'A-F'; }
# TripleDes(value, KEY): 3DES-ECB with PKCS7 padding under the key's first 24 characters, Base64.
KEY_HEX=$(printf '%.24s' "$KEY" | od -An -tx1 | tr -d ' \n')
tdes() { printf '%s' "$1" | openssl enc -des-ede3 -K "$KEY_HEX" -nosalt | base64 | tr -d '\n'; }

# Calls a page with name=value arguments: adds user, password, sign_type and the sign (MD5 of
# the non-empty parameters sorted by lower-case name, "name=value&…&key=KEY"), URL-encodes
# every value and prints the XML answer.
call() {
  page=$1; shift
  set -- "$@" "user=$AGENT" "password=$(tdes "$(md5 "$LOGIN_PASSWORD")")" "sign_type=MD5"
  plain=$(for p in "$@"; do
            name=${p%%=*}; value=${p#*=}
            [ -n "$value" ] && printf '%s=%s\n' "$(printf '%s' "$name" | tr 'A-Z' 'a-z')" "$value"
          done | LC_ALL=C sort -t= -k1,1 | tr '\n' '&')
  sign=$(md5 "${plain}key=$KEY")
  args=""
  for p in "$@" "sign=$sign"; do args="$args --data-urlencode $(printf '%s' "$p" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/")"; done
  eval "curl -sS -G '$BASE/ybx/$page' $args"
  echo
}

TOMORROW=$(date -d tomorrow +%Y%m%d 2>/dev/null || date -v+1d +%Y%m%d)
OWN_NUMBER="MY-$(date +%s)"   # our own order number (XCDDH), unique per booking

echo "== OrderAndPayWithYDJ.aspx: 2 × 成人票 on $TOMORROW, paid from the deposit account"
answer=$(call OrderAndPayWithYDJ.aspx \
  "Order_list=$ADULT|2" \
  "Mobile=$(tdes 13800138000)" \
  "ID=$(tdes 430103198001010011)" \
  "SXRQ=$(tdes "$TOMORROW")" \
  "timespanindex=-1" \
  "money=240.00" \
  "SmsCode=$(tdes "$(md5 "$PAY_PASSWORD")")" \
  "smsModel=0" \
  "XCDDH=$(tdes "$OWN_NUMBER")")
echo "$answer"
order=$(printf '%s' "$answer" | sed -n 's:.*<Order_id>\([^<]*\)</Order_id>.*:\1:p')
[ -n "$order" ] || { echo "no order number in the answer" >&2; exit 1; }

echo "== QueryOrder.aspx: order $order"
call QueryOrder.aspx "Order_id=$order"
