// The test hosts of the end-to-end suite: one table read by setup.sh (through the CLI below),
// by the sites server and by the tests, so a name or an address is written once.
//
//   node tests/e2e/sites/hosts.mjs etc-hosts   lines for /etc/hosts
//   node tests/e2e/sites/hosts.mjs san         subjectAltName value for the leaf certificate
//
// Roles: institution, idp, redirector and plain are allowed by tests/e2e/config/catalogue.toml;
// local is allowed only once the référent adds its tile;
// evil is never allowed: the escape tests assert that it receives nothing at all.

export const HOSTS = Object.freeze({
  'www.institution.test': { ip: '127.0.1.1', role: 'institution' },
  'institution.test': { ip: '127.0.1.1', role: 'institution' },
  'docs.institution.test': { ip: '127.0.1.1', role: 'institution' },
  'idp.test': { ip: '127.0.1.2', role: 'idp' },
  'redirect.test': { ip: '127.0.1.3', role: 'redirector' },
  'plain.test': { ip: '127.0.1.4', role: 'plain', http: true },
  // Not in the test catalogue: the référent adds it from the admin screens (admin.test.mjs).
  'www.mairie.test': { ip: '127.0.1.7', role: 'local' },
  'mairie.test': { ip: '127.0.1.7', role: 'local' },
  // Network faults (netfault.test.mjs): nothing listens on down.test's address (connection
  // refused); badcert.test is served with a certificate that does not name it.
  'down.test': { ip: '127.0.1.5', role: 'fault', noListen: true },
  'badcert.test': { ip: '127.0.1.6', role: 'fault', noSan: true },
  'evil.test': { ip: '127.0.2.1', role: 'evil' },
  'www.evil.test': { ip: '127.0.2.1', role: 'evil' },
  'institution.test.evil.test': { ip: '127.0.2.1', role: 'evil' },
  'evilinstitution.test': { ip: '127.0.2.2', role: 'evil' },
});

/** Addresses that belong to evil hosts only: anything arriving there is an escape. */
export const EVIL_IPS = Object.freeze(['127.0.2.1', '127.0.2.2']);

/** Every address the server listens on (443 and 80 on each). */
export const IPS = Object.freeze([...new Set(Object.values(HOSTS).filter((h) => !h.noListen).map((h) => h.ip))]);

/** Extra TLS port, so that "non-default port" vectors can reach something when nothing stops them. */
export const ODD_PORT = 8443;
/** Addresses that also listen on ODD_PORT: evil, and the institution (an allowed host on a wrong port). */
export const ODD_PORT_IPS = Object.freeze(['127.0.1.1', ...EVIL_IPS]);

/** Control API of the sites server (plain http, loopback). */
export const CONTROL = Object.freeze({ host: '127.0.0.1', port: 8099 });

export const ALLOWED_HOSTS = Object.freeze(
  Object.entries(HOSTS).filter(([, h]) => h.role !== 'evil').map(([n]) => n),
);
export const EVIL_HOSTS = Object.freeze(
  Object.entries(HOSTS).filter(([, h]) => h.role === 'evil').map(([n]) => n),
);

export function roleOfHost(host) {
  return HOSTS[host]?.role ?? null;
}

export function etcHostsLines() {
  const byIp = new Map();
  for (const [name, h] of Object.entries(HOSTS)) {
    if (!byIp.has(h.ip)) byIp.set(h.ip, []);
    byIp.get(h.ip).push(name);
  }
  // glibc does not strip a trailing dot when it reads /etc/hosts: without these aliases the
  // trailing-dot vector (https://evil.test./) would fail on name resolution, not on the policy.
  for (const [name, h] of Object.entries(HOSTS)) byIp.get(h.ip).push(`${name}.`);
  return [...byIp].map(([ip, names]) => `${ip} ${names.join(' ')}`);
}

export function subjectAltName() {
  // IP SANs for the evil addresses: an IP-literal vector (https://127.0.2.1/, https://2130706945/)
  // must be able to complete a request when nothing stops it, or the test could not fail.
  // The trailing-dot spellings too, so that https://evil.test./ completes when nothing stops it
  // (GnuTLS compares the name as given).
  const dns = Object.entries(HOSTS).filter(([, h]) => !h.noSan).flatMap(([n]) => [`DNS:${n}`, `DNS:${n}.`]);
  const ips = [...IPS].map((ip) => `IP:${ip}`);
  return [...dns, ...ips].join(',');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const what = process.argv[2];
  if (what === 'etc-hosts') console.log(etcHostsLines().join('\n'));
  else if (what === 'san') console.log(subjectAltName());
  else if (what === 'ips') console.log(IPS.join(' '));
  else {
    console.error('usage: hosts.mjs etc-hosts|san|ips');
    process.exit(2);
  }
}
