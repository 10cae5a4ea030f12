#!/usr/bin/env python3
"""tests/serve/check_deploy.py — deploy/ holds what it says: Kubernetes manifests that parse and fit together (a
Deployment asking for a GPU, probes on /health, Prometheus scrape annotations, a Service that selects its pods, and
`vkmm serve` arguments the binary accepts), and an nginx snippet that Debian's nginx accepts.

usage: check_deploy.py path/to/vkmm source-root
"""
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

failures = 0


def check(ok, what, detail=''):
    global failures
    if not ok:
        failures += 1
        print(f'FAIL: {what}{": " + str(detail) if detail else ""}')
    return ok


def main():
    vkmm, root = sys.argv[1], sys.argv[2]
    k8s = os.path.join(root, 'deploy', 'k8s')
    docs = []
    for name in sorted(os.listdir(k8s)):
        if name.endswith('.yaml'):
            with open(os.path.join(k8s, name)) as f:
                docs += [d for d in yaml.safe_load_all(f) if d]
    kinds = {d['kind']: d for d in docs}
    check({'Deployment', 'Service'} <= set(kinds), 'a Deployment and a Service', sorted(kinds))
    dep, svc = kinds.get('Deployment', {}), kinds.get('Service', {})
    pod = dep.get('spec', {}).get('template', {})
    labels = pod.get('metadata', {}).get('labels', {})
    check(dep.get('spec', {}).get('selector', {}).get('matchLabels', {}).items() <= labels.items(),
          'the Deployment selects its own pods')
    check(svc.get('spec', {}).get('selector', {}).items() <= labels.items() and svc['spec']['selector'],
          'the Service selects the pods')
    ann = pod.get('metadata', {}).get('annotations', {})
    check(ann.get('prometheus.io/scrape') == 'true' and ann.get('prometheus.io/path') == '/metrics',
          'Prometheus scrape annotations on the pods', ann)
    (c,) = pod['spec']['containers']
    check(c['resources']['limits'].get('nvidia.com/gpu') == 1, 'one GPU per replica', c['resources'])
    for probe in ('readinessProbe', 'livenessProbe', 'startupProbe'):
        check(c.get(probe, {}).get('httpGet', {}).get('path') == '/health', f'{probe} on /health')
    ports = {p['name']: p['containerPort'] for p in c['ports']}
    check(str(ports.get('http')) in c['args'], 'the server listens on the container port', c['args'])
    check(pod['spec'].get('terminationGracePeriodSeconds', 30) >
          float(c['args'][c['args'].index('--shutdown-timeout') + 1]), 'the grace period outlasts --shutdown-timeout')
    # the binary accepts the arguments (--help after them: parsed, nothing started)
    args = c['args'][1:] if c['args'][0] == 'serve' else c['args']
    r = subprocess.run([vkmm, 'serve', *args, '--help'], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and 'usage: vkmm serve' in r.stdout, 'vkmm serve accepts the manifest\'s arguments', r.stderr)

    nginx = shutil.which('nginx') or '/usr/sbin/nginx'
    if check(os.path.exists(nginx), 'nginx is installed (./scripts/setup)'):
        with tempfile.TemporaryDirectory() as tmp:
            snippet = open(os.path.join(root, 'deploy', 'nginx', 'vkmm.conf')).read()
            snippet = snippet.replace('/var/log/nginx/vkmm.log', os.path.join(tmp, 'access.log'))
            open(os.path.join(tmp, 'vkmm.conf'), 'w').write(snippet)
            open(os.path.join(tmp, 'nginx.conf'), 'w').write(
                f'pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\nhttp {{ include {tmp}/vkmm.conf; }}\n')
            r = subprocess.run([nginx, '-t', '-p', tmp, '-e', f'{tmp}/error.log', '-c', f'{tmp}/nginx.conf'],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, 'nginx -t accepts deploy/nginx/vkmm.conf', r.stderr)
    print(f'serve-deploy: {"0 failed" if not failures else f"{failures} failed"}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
