#!/usr/bin/env bash
# Benchmark of the importers: `aws cloudfront list-distributions` output and a
# `terraform show -json` plan of DISTRIBUTIONS distributions with ORIGINS
# custom origins each (and one behaviour per origin, forwarding Host on every
# other one), read by `originaudit check-config` (parse, validate, lint every
# distribution) and scanned by `originaudit scan`. Every origin is named
# refused.bench.test, which --resolve points at 127.0.0.1 on a port nothing
# listens on, so every probe is refused at once and a scan is loading,
# planning, one refused connect per probe and the JSON report. Side by side,
# the peer: python3's json.load of the same file (parsing alone, no
# validation), in the same run.
#
#   bench/import.sh [DISTRIBUTIONS] [ORIGINS]
#
# Defaults 200 distributions x 25 origins (CloudFront's default quota per
# distribution). Each figure is the fastest of BENCH_RUNS (default 3) runs;
# BENCH_BIN runs another scanner binary. Needs python3 and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

dists=${1:-200}
origins=${2:-25}
runs=${BENCH_RUNS:-3}
bin=${BENCH_BIN:-}
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
if [ -z "$bin" ]; then
	if [ ! -x build/scanner/originaudit ]; then
		[ -f build/build.ninja ] || meson setup build >/dev/null
		ninja -C build >/dev/null
	fi
	bin=$PWD/build/scanner/originaudit
fi
work=$(mktemp -d /tmp/oa-bench-import.XXXXXX)
# shellcheck disable=SC2064 # expand now
trap "rm -rf '$work'" EXIT
port=$(free_port)

python3 - "$dists" "$origins" "$port" "$work" <<'EOF'
import json, sys
d, n, port, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
items, resources, changes = [], [], []
for k in range(d):
    origins = [{"Id": f"o{i}", "DomainName": "refused.bench.test", "OriginPath": "",
                "CustomHeaders": {"Quantity": 0},
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": port,
                                       "OriginProtocolPolicy": "https-only",
                                       "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                                       "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
                "ConnectionAttempts": 3, "ConnectionTimeout": 10} for i in range(n)]
    behaviors = [{"PathPattern": f"/p{i}/*", "TargetOriginId": f"o{i}",
                  "ViewerProtocolPolicy": "redirect-to-https",
                  **({"OriginRequestPolicyId": ALL_VIEWER} if i % 2 else {})} for i in range(1, n)]
    items.append({"Id": f"E{k:012d}", "ARN": f"arn:aws:cloudfront::123456789012:distribution/E{k:012d}",
                  "Status": "Deployed", "DomainName": f"d{k}.cloudfront.net",
                  "Aliases": {"Quantity": 1, "Items": [f"www.d{k}.bench.test"]},
                  "Origins": {"Quantity": n, "Items": origins},
                  "OriginGroups": {"Quantity": 0},
                  "DefaultCacheBehavior": {"TargetOriginId": "o0", "ViewerProtocolPolicy": "redirect-to-https"},
                  "CacheBehaviors": {"Quantity": len(behaviors), "Items": behaviors},
                  "Enabled": True})
    values = {"aliases": [f"www.d{k}.bench.test"], "enabled": True,
              "origin": [{"domain_name": "refused.bench.test", "origin_id": f"o{i}", "origin_path": "",
                          "connection_attempts": 3, "connection_timeout": 10, "custom_header": [],
                          "custom_origin_config": [{"http_port": 80, "https_port": port,
                                                    "origin_protocol_policy": "https-only",
                                                    "origin_ssl_protocols": ["TLSv1.2"],
                                                    "origin_read_timeout": 30, "origin_keepalive_timeout": 5,
                                                    "ip_address_type": ""}],
                          "s3_origin_config": [], "vpc_origin_config": [], "origin_shield": []}
                         for i in range(n)],
              "origin_group": [],
              "default_cache_behavior": [{"target_origin_id": "o0", "viewer_protocol_policy": "redirect-to-https",
                                          "forwarded_values": [], "origin_request_policy_id": ""}],
              "ordered_cache_behavior": [{"path_pattern": f"/p{i}/*", "target_origin_id": f"o{i}",
                                          "viewer_protocol_policy": "redirect-to-https", "forwarded_values": [],
                                          "origin_request_policy_id": ALL_VIEWER if i % 2 else ""}
                                         for i in range(1, n)]}
    addr = f'module.cdn["d{k}"].aws_cloudfront_distribution.main'
    resources.append({"address": addr, "mode": "managed", "type": "aws_cloudfront_distribution",
                      "name": "main", "provider_name": "registry.terraform.io/hashicorp/aws",
                      "schema_version": 1, "values": values, "sensitive_values": {}})
    changes.append({"address": addr, "mode": "managed", "type": "aws_cloudfront_distribution", "name": "main",
                    "change": {"actions": ["create"], "before": None, "after": values,
                               "after_unknown": {"arn": True, "id": True, "domain_name": True}}})
json.dump({"DistributionList": {"Quantity": d, "MaxItems": 1000, "IsTruncated": False, "Items": items}},
          open(f"{work}/list.json", "w"), indent=2)
json.dump({"format_version": "1.2", "terraform_version": "1.9.5",
           "planned_values": {"root_module": {"child_modules": [{"address": "module.cdn", "resources": resources}]}},
           "resource_changes": changes}, open(f"{work}/plan.json", "w"), indent=2)
EOF

# The fastest of $runs runs of "$@": wall seconds and peak RSS (MB), space-separated.
best() {
	local w r bw="" br=""
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>&1 || true
		read -r w r < <(tail -n 1 "$work/t")
		if [ -z "$bw" ] || awk -v a="$w" -v b="$bw" 'BEGIN{exit !(a<b)}'; then
			bw=$w br=$r
		fi
	done
	echo "$bw $(awk -v k="$br" 'BEGIN{printf "%.1f", k/1024}')"
}

printf 'input: %s distributions x %s origins (%s origins); list %s KB, plan %s KB\n' \
	"$dists" "$origins" $((dists * origins)) \
	$(($(stat -c %s "$work/list.json") / 1024)) $(($(stat -c %s "$work/plan.json") / 1024))
printf '%-44s %9s %9s\n' "" "wall (s)" "RSS (MB)"
for kind in cloudfront:list terraform:plan; do
	opt=${kind%%:*} file=$work/${kind##*:}.json
	read -r w r < <(best python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$file")
	printf '%-44s %9s %9s\n' "peer: python3 json.load ($opt)" "$w" "$r"
	read -r w r < <(best "$bin" check-config "--$opt" "$file")
	printf '%-44s %9s %9s\n' "originaudit check-config --$opt" "$w" "$r"
	read -r w r < <(best "$bin" scan "--$opt" "$file" -f json -o "$work/report.json" \
		--concurrency 256 --resolve "refused.bench.test:$port:127.0.0.1")
	printf '%-44s %9s %9s\n' "originaudit scan --$opt (probes refused)" "$w" "$r"
done
