#!/usr/bin/env bash
# A stand-in for kindnetd, Kind's network daemon, whose source the Go module proxy does not serve.
# On each node (hostNetwork DaemonSet from default-cni.yaml.tmpl) it does what kindnetd does for
# plain pod networking: writes the node's CNI config (ptp + host-local over the node's podCIDR +
# portmap), routes every other node's podCIDR via that node's IP, and masquerades pod traffic that
# leaves the pod subnet. It polls the API every 10 s. Unlike kindnetd it enforces no NetworkPolicy.
set -u
API="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}"
SA=/var/run/secrets/kubernetes.io/serviceaccount
iptables -t nat -N KIND-MASQ 2>/dev/null || true
iptables -t nat -C POSTROUTING -j KIND-MASQ 2>/dev/null || iptables -t nat -A POSTROUTING -j KIND-MASQ
iptables -t nat -F KIND-MASQ
iptables -t nat -A KIND-MASQ -d "${POD_SUBNET}" -j RETURN
iptables -t nat -A KIND-MASQ -s "${POD_SUBNET}" -j MASQUERADE
while true; do
  if ! nodes="$(curl -sf --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" "$API/api/v1/nodes")"; then
    echo "API not reachable yet"
    sleep 5
    continue
  fi
  jq -r '.items[] | [(.status.addresses[] | select(.type=="InternalIP") | .address), (.spec.podCIDR // "")] | @tsv' \
    <<<"$nodes" | while IFS=$'\t' read -r ip cidr; do
    [[ -n "$cidr" ]] || continue
    if [[ "$ip" == "$HOST_IP" ]]; then
      conf='{"cniVersion":"0.3.1","name":"kindnet","plugins":[{"type":"ptp","ipMasq":false,"ipam":{"type":"host-local","dataDir":"/run/cni-ipam-state","routes":[{"dst":"0.0.0.0/0"}],"ranges":[[{"subnet":"'"$cidr"'"}]]},"mtu":1500},{"type":"portmap","capabilities":{"portMappings":true}}]}'
      if [[ "$(cat /etc/cni/net.d/10-kindnet.conflist 2>/dev/null)" != "$conf" ]]; then
        printf '%s\n' "$conf" >/etc/cni/net.d/.tmp-kindnet
        mv /etc/cni/net.d/.tmp-kindnet /etc/cni/net.d/10-kindnet.conflist
        echo "wrote the CNI config for $cidr"
      fi
    else
      ip route replace "$cidr" via "$ip" || echo "could not route $cidr via $ip"
    fi
  done
  sleep 10
done
