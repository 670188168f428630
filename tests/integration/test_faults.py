"""Bad input end to end: the run stops in preflight with a message that says what is wrong and what to do,
and nothing is touched (settings files byte for byte, no server started, stopped or restarted, no device in
the back office, no lock left, nothing injected).

Pair 6 (both servers stopped) takes bad values given with -e, one run each, and one grouped run of an
inventory in which many "pairs" are aliases of pair 6's two hosts, each alias pair with a fault of its own
(variables, inventory mistakes, a clone, settings files with a bad ACTIVE_HOSTID). Pair 7 (its main
running, its active hostid pinned to a STRING hostid the back-up does not have) takes wrong admin
credentials and a hostid type mismatch. docs/FAULTS.md is the matrix these tests belong to; the helpers
below are shared with test_faults_runtime.py and test_faults_interrupted.py.
"""

import base64
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import types
from pathlib import Path

import pytest
import yaml

from conftest import TOP, VENV_BIN, Run, ansible_env, devices_for, pair_hosts, playbook

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SETTINGS = '/etc/default/flexnetls-demo'
LOCK = '/run/fnls-failover-demo.lock'
EVENTS = 'var/opt/flexnetls/demo/events.jsonl'
PWNED = '/tmp/flt-pwned'
FAULT_PAIRS = 15          # pairs 6..15 are the fault matrix's


# --------------------------------------------------------------------------------------------
# helpers shared by the test_faults* modules
# --------------------------------------------------------------------------------------------
def need_pairs(lab, n=None):
    n = n or FAULT_PAIRS
    if len(lab.pairs()) < n:
        why = 'the fault matrix needs a lab of %d pairs (FNLS_TEST_PAIRS=%d)' % (n, n)
        if os.environ.get('CI'):
            pytest.fail('%s; CI runs all of it' % why, pytrace=False)
        pytest.skip(why)


def file_bytes(lab, host, path=SETTINGS):
    """The file's bytes as the host sees them (read inside the host, not from its overlay's upper dir)."""
    proc = lab.run(host, ['base64', '-w0', path])
    return None if proc.returncode else base64.b64decode(proc.stdout)


def file_stat(lab, host, path=SETTINGS):
    return lab.run(host, ['stat', '-c', '%U:%G %a', path], check=True).stdout.strip()


def write_file(lab, host, path, text, mode='0644'):
    lab.run(host, ['sh', '-c', 'cat > "$1" && chmod %s "$1"' % mode, 'sh', path], input=text, check=True)


def append_line(lab, host, line, path=SETTINGS):
    lab.run(host, ['sh', '-c', 'printf "%s\\n" "$1" >> "$2"', 'sh', line, path], check=True)


def delete_lines(lab, host, prefix, path=SETTINGS):
    lab.run(host, ['sed', '-i', '/^%s/d' % prefix, path], check=True)


def running(lab, host):
    return lab.run(host, ['service', 'flexnetls-demo', 'status']).returncode == 0


def lock_present(lab, host):
    return lab.run(host, ['test', '-e', LOCK]).returncode == 0


def host_events(lab, host, settle=2.0):
    """Every event of the host's events.jsonl. A line that is not a JSON event fails the test (a torn
    ``start`` line must not escape the safety checks). The server writes each event as one line in one
    write; a last line without its newline yet is read again until it is complete (up to ``settle`` s)."""
    path = lab.host_root(host) / EVENTS
    deadline = time.monotonic() + settle
    while True:
        try:
            text = path.read_bytes().decode('utf-8', errors='replace')
        except FileNotFoundError:
            return []
        if not text or text.endswith('\n'):
            break
        if time.monotonic() >= deadline:
            raise AssertionError('%s of %s ends with an incomplete line: %r' % (EVENTS, host, text[-300:]))
        time.sleep(0.02)
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            ev = None
        if not isinstance(ev, dict) or 'ts' not in ev or 'event' not in ev:
            raise AssertionError('%s of %s, line %d, is not an event: %r' % (EVENTS, host, number, line[:300]))
        ev.setdefault('host', host)
        out.append(ev)
    return out


def events_of(lab, host, event=None, since=0.0, result=None):
    return [e for e in host_events(lab, host) if e['ts'] > since and (event is None or e['event'] == event)
            and (result is None or e.get('result') == result)]


def wait_for(what, predicate, timeout=120, interval=0.2, alive=None):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` or when ``alive()`` is False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if alive is not None and not alive():
            value = predicate()
            if value:
                return value
            raise AssertionError('the run ended before %s' % what)
        time.sleep(interval)
    raise AssertionError('%s did not happen within %s s' % (what, timeout))


def wait_event(lab, host, event, since, result=None, timeout=180, alive=None):
    return wait_for('%s %s' % (host, event), lambda: events_of(lab, host, event, since, result), timeout,
                    alive=alive)[0]


# the back office's access log: "<date> <time>,<ms> INFO <client> "<method> <target>" <status> ..."
ACCESS_LINE = re.compile(r'^(?P<date>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(?P<ms>\d{3}) \S+ (?P<client>\S+) '
                         r'"(?P<method>[A-Z]+) (?P<target>\S+)" (?P<status>\S+)', re.M)
CAPABILITY_PATH = '/flexnet/deviceservices'     # the servers' own capability requests
ASYNC_DIR = 'root/.ansible_async'               # Ansible's async job results on a host (async_dir, for root)


def backoffice_log_size(lab):
    try:
        return os.path.getsize(lab.bo['log'])
    except OSError:
        return 0


def backoffice_requests(lab, client, since=0.0, offset=0):
    """The requests of ``client`` (an address) that the lab's back office logged (its access log, read from
    byte ``offset`` on) after ``since`` (epoch seconds): dicts with ts, client, method, target and status."""
    try:
        with open(lab.bo['log'], 'rb') as fh:
            fh.seek(offset)
            text = fh.read().decode('utf-8', errors='replace')
    except OSError:
        return []
    out = []
    for m in ACCESS_LINE.finditer(text):
        if m['client'] != client:
            continue
        ts = time.mktime(time.strptime(m['date'], '%Y-%m-%d %H:%M:%S')) + int(m['ms']) / 1000.0
        if ts >= since:
            out.append(dict(ts=ts, client=m['client'], method=m['method'], target=m['target'], status=m['status']))
    return out


def background_jobs(lab, host, since):
    """The Ansible async jobs started on ``host`` since ``since`` (epoch seconds), e.g. the back-up's guarded
    start, which outlives the run that launched it: {job id: its result, or None while the job runs}. Each
    job's file under ~/.ansible_async is written when the job starts and again, with its result, when it
    ends."""
    jobs = {}
    for path in sorted((lab.host_root(host) / ASYNC_DIR).glob('*')):
        try:
            if path.name.endswith('.tmp') or path.stat().st_mtime < since:
                continue
            doc = json.loads(path.read_text(errors='replace'))
        except (OSError, ValueError):
            jobs[path.name] = None             # gone, or being replaced: look again
            continue
        running = isinstance(doc, dict) and doc.get('started') and not doc.get('finished')
        jobs[path.name] = None if running else doc
    return jobs


def wait_background_ended(lab, hosts, since, timeout=300):
    """Wait until every async job started on ``hosts`` since ``since`` has ended (the back-up's guard has
    started its server or refused); returns {host: {job id: result}}. After this nothing a run left behind
    on those hosts can start a server any more."""
    def ended():
        jobs = {h: background_jobs(lab, h, since) for h in hosts}
        return jobs if all(r is not None for js in jobs.values() for r in js.values()) else None
    return wait_for('the end of the background jobs on %s' % ', '.join(hosts), ended, timeout, interval=0.5)


def start_server(lab, host, timeout=60):
    since = time.time()
    lab.run(host, ['service', 'flexnetls-demo', 'start'], check=True)
    wait_event(lab, host, 'ready', since, timeout=timeout)


def order_violations(lab, pair):
    """Every start of the pair's back-up that did not come after a confirmed back-office contact of the
    main's boot that was running at that moment (the seed's rule). An empty list is the wanted answer."""
    main, backup = pair_hosts(pair)
    evs = sorted(host_events(lab, main) + host_events(lab, backup), key=lambda e: e['ts'])
    bad = []
    for e in evs:
        if e['host'] != backup or e['event'] != 'start':
            continue
        before = [m for m in evs if m['host'] == main and m['ts'] <= e['ts']]
        starts = [m for m in before if m['event'] == 'start']
        if not starts:
            bad.append('back-up start at %.3f before any start of the main' % e['ts'])
            continue
        boot = starts[-1].get('boot_id')
        contacts = [m for m in before if m['event'] == 'bo_contact' and m.get('result') == 'ok'
                    and m.get('boot_id') == boot]
        if not contacts:
            bad.append('back-up start at %.3f without a confirmed contact of the main\'s boot %s' % (e['ts'], boot))
        elif [m for m in before if m['event'] == 'stop' and m.get('boot_id') == boot]:
            bad.append('back-up start at %.3f after the main\'s boot %s had stopped' % (e['ts'], boot))
    return bad


def backup_registered_as_main(lab, pair):
    """Back-office evidence of a back-up that got ahead of its main: a request of the back-up that changed a
    registration, or a device that holds the back-up as a main server."""
    backup_hostid = lab.hostid(pair_hosts(pair)[1])
    evs = [e for e in lab.events() if e.get('source') == 'backoffice' and e.get('event') == 'capability_request'
           and e.get('hostid') == backup_hostid and e.get('changed')]
    devs = [d for d in devices_for(lab, backup_hostid)
            if any(s['hostid'] == backup_hostid and s['role'] == 'MAIN' for s in d['servers'])]
    return evs + devs


def assert_pair_safe(lab, pair):
    assert order_violations(lab, pair) == []
    assert backup_registered_as_main(lab, pair) == []


def assert_no_secret(lab, run, *more):
    for secret in (lab.admin_password, lab.backoffice_password) + more:
        assert len(secret) >= 12
        assert secret not in run.out, 'a secret was printed'


def assert_converged(lab, pair, run):
    """The pair is registered, the main as main, both servers run, the main's settings name the back-up once."""
    main, backup = pair_hosts(pair)
    assert run.recap[main]['failed'] == 0 and run.recap[backup]['failed'] == 0, run
    assert run.recap[main]['unreachable'] == 0 and run.recap[backup]['unreachable'] == 0, run
    assert 'p%02d: registered' % pair in run.flat, run
    devices = devices_for(lab, lab.hostid(main))
    assert len(devices) == 1 and devices[0]['serverIds'] == [lab.hostid(main), lab.hostid(backup)], devices
    assert {s['hostid']: s['role'] for s in devices[0]['servers']} == {lab.hostid(main): 'MAIN',
                                                                       lab.hostid(backup): 'BACKUP'}
    assert devices_for(lab, lab.hostid(backup)) == devices
    assert running(lab, main) and running(lab, backup)
    lines = [l for l in file_bytes(lab, main).decode().splitlines() if l.startswith('BACKUP_SERVER_HOSTID=')]
    assert lines == ['BACKUP_SERVER_HOSTID=' + lab.hostid(backup)]
    assert_pair_safe(lab, pair)


def lab_inventory(lab):
    doc = yaml.safe_load(Path(lab.inventory).read_text())
    group = doc['all']['children']['fnls_servers']
    return group['hosts'], group['vars']


def write_inventory(lab, path, hosts):
    """An inventory of extra hosts in the group fnls_servers: each ``{alias: {'on': lab host, var: value}}``
    is reached like the lab host it names (``on``), with its own pair variables. Use it next to the lab's."""
    real, _group_vars = lab_inventory(lab)
    out = {}
    for alias, spec in hosts.items():
        spec = dict(spec)
        h = dict(real[spec.pop('on')])
        h.update(spec)
        out[alias] = h
    path.write_text(yaml.safe_dump({'all': {'children': {'fnls_servers': {'hosts': out}}}}, sort_keys=False))
    os.chmod(str(path), 0o600)
    return str(path)


class Background(object):
    """ansible-playbook in a session of its own, so that the whole run can be killed at a chosen moment."""

    def __init__(self, lab, limit, extra_vars=None, args=()):
        cmd = [str(VENV_BIN / 'ansible-playbook'), '-i', str(lab.inventory), 'fnls.failover.register_pair',
               '--limit', ','.join(limit)] + list(args)
        if extra_vars:
            cmd += ['-e', json.dumps(extra_vars)]
        self.lab = lab
        self.out = tempfile.TemporaryFile('w+')
        self.since = time.time()
        self.bo_offset = backoffice_log_size(lab)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=str(TOP), env=ansible_env(), stdout=self.out,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        with open('/proc/self/fd/%d' % self.out.fileno(), errors='replace') as handle:
            return handle.read()

    def watch(self, what, predicate, timeout=600):
        """wait_for() while the run runs; a failure shows the end of the run's output."""
        try:
            return wait_for(what, predicate, timeout, alive=self.alive)
        except AssertionError as e:
            raise AssertionError('%s; the run printed:\n%s' % (e, self.output()[-6000:]))

    def wait_until_waiting(self, main):
        """Wait until the run waits for the main's back-office contact, as the lab sees it: the main has
        started (its ``start`` event) and answers (``ready``), and then a request of the main's host has reached
        the back office that is not the main server's own capability request: the wait's query of the device
        API (its backoffice evidence, asked at every poll after the main's status and log). Returns that request.
        The run's output is not read, so that no task name matters."""
        lab = self.lab
        start = self.wait_event(lab, main, 'start', self.since, result='ok')
        ready = self.wait_event(lab, main, 'ready', start['ts'])
        return self.watch('the wait for the back-office contact of %s (its query of the back office)' % main,
                          lambda: [r for r in backoffice_requests(lab, lab.address(main), ready['ts'], self.bo_offset)
                                   if not r['target'].startswith(CAPABILITY_PATH)])[0]

    def wait_event(self, lab, host, event, since, result=None, timeout=600):
        return self.watch('%s %s' % (host, event), lambda: events_of(lab, host, event, since, result), timeout)[0]

    def kill(self):
        """SIGKILL to the run's whole process group: the controller dies as in a crash or a killed job."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=60)

    def stop(self):
        """Kill the run if it still runs (a test that failed half-way leaves nothing behind)."""
        if self.alive():
            self.kill()

    def wait(self, timeout=900):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self.result()

    def result(self):
        self.out.seek(0)
        return Run(types.SimpleNamespace(returncode=self.proc.returncode, stdout=self.out.read()),
                   time.monotonic() - self.t0)


class Snapshot(object):
    """What a run that stops in preflight must leave exactly as it was, on the hosts of one pair."""

    def __init__(self, lab, pair):
        self.lab = lab
        self.hosts = pair_hosts(pair)
        self.settings = {h: file_bytes(lab, h) for h in self.hosts}
        self.events = {h: len(host_events(lab, h)) for h in self.hosts}
        self.running = {h: running(lab, h) for h in self.hosts}
        self.devices = {h: devices_for(lab, lab.hostid(h)) for h in self.hosts}
        self.backups = {h: self._backups(h) for h in self.hosts}

    def _backups(self, host):
        return self.lab.run(host, ['sh', '-c', 'ls -1 %s.*~ 2>/dev/null || true' % SETTINGS]).stdout.split()

    def assert_unchanged(self):
        lab = self.lab
        for h in self.hosts:
            assert file_bytes(lab, h) == self.settings[h], '%s: the settings file changed' % h
            new = host_events(lab, h)[self.events[h]:]
            assert not [e for e in new if e['event'] in ('start', 'stop')], '%s was started or stopped: %s' % (h, new)
            assert running(lab, h) == self.running[h]
            assert devices_for(lab, lab.hostid(h)) == self.devices[h]
            assert self._backups(h) == self.backups[h], '%s: a backup copy of the settings was made' % h
        assert not lock_present(lab, self.hosts[0]), 'a lock was left on the main'


def assert_nothing_injected(lab, *hosts):
    assert not os.path.exists(PWNED)
    for h in hosts:
        assert lab.run(h, ['test', '-e', PWNED]).returncode != 0, h


# --------------------------------------------------------------------------------------------
# pair 6: bad values given with -e, one run each
# --------------------------------------------------------------------------------------------
P6 = pair_hosts(6)
BAD_EXTRA_VARS = [
    # (id, -e value, words in the output: the variable or what was wrong, and what to do)
    ('unknown-hostid-type', {'failover_pair_hostid_type': 'ETHERNT'},
     ['failover_pair_hostid_type has a value the role cannot use', 'failover_pair_hostid_type empty or one of ETHERNET']),
    ('service-name-injection', {'failover_pair_service_name': 'flexnetls-demo; touch %s' % PWNED},
     ['failover_pair_service_name has a value the role cannot use', "letters, digits, '@', '.', '_', '-'"]),
    ('backoffice-url-injection', {'failover_pair_backoffice_url': 'http://fno"\n; touch %s' % PWNED},
     ['failover_pair_backoffice_url has a value the role cannot use', 'must be a plain http(s) URL']),
    ('role-not-a-choice', {'failover_pair_role': 'primary'},
     ['value of failover_pair_role must be one of: main, backup, got: primary']),
    ('net-interface-typo', {'failover_pair_net_interface': 'eth7'},
     ["net_interface 'eth7' is not a network interface with a MAC address on this host (it has: eth0)"]),
    ('backoffice-password-wrong', {'failover_pair_backoffice_password': 'Wr0ng-Back-Office-pw-66'},
     ['Querying the back office for the pair', 'refused the credentials of user',
      'check backoffice_user and backoffice_password']),
]


@pytest.mark.parametrize('extra, words', [c[1:] for c in BAD_EXTRA_VARS], ids=[c[0] for c in BAD_EXTRA_VARS])
def test_bad_extra_vars_stop_in_preflight_with_nothing_changed(lab, extra, words):
    need_pairs(lab)
    snap = Snapshot(lab, 6)
    run = playbook(lab, limit=P6, extra_vars=extra)
    assert run.rc != 0, run
    for word in words:
        assert word in run.flat, (word, run)
    snap.assert_unchanged()
    assert_nothing_injected(lab, *P6)
    assert_no_secret(lab, run, *[v for v in extra.values() if isinstance(v, str) and 'pw' in v])


# --------------------------------------------------------------------------------------------
# many faults in one run: alias pairs of pair 6's hosts
# --------------------------------------------------------------------------------------------
def grouped_rows(lab):
    """{pair name: (hosts of the alias pair, words the output must hold for it)}."""
    m, b = P6
    backup_hostid = lab.hostid(b)

    def both(name, **v):
        """An alias pair named ``name`` on pair 6's hosts; ``v`` (the fault) wins over the defaults."""
        return {'%s-main' % name: dict(dict(on=m, failover_pair_name=name, failover_pair_role='main'), **v),
                '%s-backup' % name: dict(dict(on=b, failover_pair_name=name, failover_pair_role='backup'), **v)}

    rows = {}

    def row(name, hosts, *words):
        rows[name] = (hosts, words)

    row('bad-settings-path', both('bad-settings-path', failover_pair_settings_path='etc/default/flexnetls-demo'),
        'failover_pair_settings_path has a value the role cannot use', 'absolute paths')
    row('bad-evidence', both('bad-evidence', failover_pair_evidence=['status', 'telepathy']),
        'failover_pair_evidence has a value the role cannot use', 'a list of status, log, backoffice')
    row('zero-wait', both('zero-wait', failover_pair_wait_timeout=0),
        'failover_pair_wait_timeout has a value the role cannot use', 'positive')
    row('no-admin-password', both('no-admin-password', failover_pair_admin_password=''),
        'failover_pair_admin_password has a value the role cannot use', 'use Ansible Vault')
    row('bad-port', both('bad-port', failover_pair_port=70000), 'a port from 1 to 65535')
    row('bad-registration', both('bad-registration', failover_pair_registration='auto'),
        'value of failover_pair_registration must be one of: automatic, manual, got: auto')
    row('typename-lower-other-type', both('typename-lower-other-type', failover_pair_hostid_type='vm_uuid'),
        'uses %s as its active hostid, but failover_pair_hostid_type is VM_UUID' % lab.hostid(m),
        "pin the main's ACTIVE_HOSTID to its VM_UUID hostid first")
    row('backoffice-down', both('backoffice-down', failover_pair_backoffice_url='http://198.18.0.2:9'),
        'Querying the back office for the pair', 'connection refused')
    row('net-interface-path', both('net-interface-path', failover_pair_net_interface='../../../etc'),
        "net_interface '../../../etc' is not a network interface")
    row('lock-path-nowhere', both('lock-path-nowhere', failover_pair_lock_path='/nonexistent/fnls.lock'),
        'The lock /nonexistent/fnls.lock cannot be made: its directory does not exist')
    row('name-injection', both('name-injection', failover_pair_name='p06$(touch %s)' % PWNED),
        "set failover_pair_name (letters, digits, '.', '_' or '-')")
    row('two-mains', {'two-mains-a': dict(on=m, failover_pair_name='two-mains', failover_pair_role='main'),
                      'two-mains-b': dict(on=b, failover_pair_name='two-mains', failover_pair_role='main')},
        'Pair two-mains must have exactly one host with failover_pair_role=main and one with', 'Fix the inventory')
    row('half-pair', {'half-pair-main': dict(on=m, failover_pair_name='half-pair', failover_pair_role='main')},
        'Pair half-pair must have exactly one host', 'back-up: none')
    row('same-address', {'same-address-main': dict(on=m, failover_pair_name='same-address', failover_pair_role='main'),
                         'same-address-backup': dict(on=m, failover_pair_name='same-address',
                                                     failover_pair_role='backup')},
        'on two different addresses', 'addresses: %s' % lab.address(m))
    row('clones', {'clones-main': dict(on=m, failover_pair_name='clones', failover_pair_role='main'),
                   'clones-backup': dict(on=m, failover_pair_name='clones', failover_pair_role='backup',
                                         failover_pair_address='p06-clone')},
        'have the same hostid %s; they are the same machine or clones' % lab.hostid(m))
    row('active-hostid-injection',
        {'active-hostid-injection-main': dict(on=m, failover_pair_name='active-hostid-injection',
                                              failover_pair_role='main', failover_pair_settings_path='/root/flt-bad'),
         'active-hostid-injection-backup': dict(on=b, failover_pair_name='active-hostid-injection',
                                                failover_pair_role='backup')},
        'the ACTIVE_HOSTID in /root/flt-bad is not usable', "'$'")
    row('active-hostid-foreign',
        {'active-hostid-foreign-main': dict(on=m, failover_pair_name='active-hostid-foreign',
                                            failover_pair_role='main', failover_pair_settings_path='/root/flt-foreign'),
         'active-hostid-foreign-backup': dict(on=b, failover_pair_name='active-hostid-foreign',
                                              failover_pair_role='backup')},
        'the ACTIVE_HOSTID in /root/flt-foreign is not usable', backup_hostid, 'not one of')
    return rows


def test_many_bad_inputs_in_one_run_each_pair_stops_with_its_own_message(lab, tmp_path):
    need_pairs(lab)
    m, b = P6
    write_file(lab, m, '/root/flt-bad', "PORT=7070\nACTIVE_HOSTID='$(touch %s)/STRING'\n" % PWNED)
    write_file(lab, m, '/root/flt-foreign', 'PORT=7070\nACTIVE_HOSTID=%s\n' % lab.hostid(b))
    rows = grouped_rows(lab)
    hosts = {}
    for row_hosts, _words in rows.values():
        hosts.update(row_hosts)
    inventory = write_inventory(lab, tmp_path / 'aliases.yml', hosts)
    snap = Snapshot(lab, 6)
    run = playbook(lab, '-i', inventory, limit=sorted(hosts), env={'ANSIBLE_FORKS': '8'})
    assert run.rc != 0, run
    missed = []
    for name, (row_hosts, words) in rows.items():
        main = [h for h, v in row_hosts.items() if v['failover_pair_role'] == 'main'][0]
        if run.recap[main]['failed'] != 1 or run.recap[main]['unreachable'] != 0:
            missed.append((name, 'recap', run.recap[main]))
        missed += [(name, word) for word in words if word not in run.flat]
    assert missed == [], (missed, run)
    assert ': registered' not in run.flat, run
    snap.assert_unchanged()
    assert_nothing_injected(lab, *P6)
    assert_no_secret(lab, run)


# --------------------------------------------------------------------------------------------
# pair 7: a running main whose active hostid is of a type the back-up does not have
# --------------------------------------------------------------------------------------------
P7 = pair_hosts(7)
STRING_HOSTID = 'flt-main-07/STRING'


@pytest.fixture(scope='module')
def pair7_string_main(lab):
    need_pairs(lab)
    m = P7[0]
    conf = json.loads(lab.run(m, ['cat', '/opt/flexnetls/demo/lab.json'], check=True).stdout)
    conf['hostid_overrides'] = {'STRING': STRING_HOSTID.split('/', maxsplit=1)[0]}
    write_file(lab, m, '/opt/flexnetls/demo/lab.json', json.dumps(conf))
    append_line(lab, m, 'ACTIVE_HOSTID=' + STRING_HOSTID)
    start_server(lab, m)
    return m


def test_wrong_admin_password_on_a_running_main_stops_before_anything_is_written(lab, pair7_string_main):
    wrong = 'Wr0ng-Admin-pw-777'
    snap = Snapshot(lab, 7)
    run = playbook(lab, limit=P7, extra_vars={'failover_pair_admin_password': wrong})
    assert run.rc != 0, run
    assert "refused the admin credentials of user 'admin' (HTTP 401); check admin_user and admin_password" \
        in run.flat, run
    assert 'TASK [fnls.failover.failover_pair : Read - ' in run.out.split('refused the admin credentials')[0], run
    snap.assert_unchanged()
    assert_no_secret(lab, run, wrong)


def test_hostid_type_mismatch_stops_in_preflight(lab, pair7_string_main):
    snap = Snapshot(lab, 7)
    run = playbook(lab, limit=P7)
    assert run.rc != 0, run
    assert 'identifies itself as %s, but the back-up %s has no hostid of type STRING' % (STRING_HOSTID, P7[1]) \
        in run.flat, run
    assert 'pin both with ACTIVE_HOSTID to a common type and run again. Nothing was changed.' in run.flat, run
    snap.assert_unchanged()
    assert_no_secret(lab, run)
