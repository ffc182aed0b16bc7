// Real podman for tests: runs scripts/ensure-podman.sh (installs podman/runc/busybox-static when
// missing, writes containers.conf, builds the local test images) once per test process and points
// podman at that containers.conf through CONTAINERS_CONF.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TEST_IMAGE = 'localhost/flotilla-test:latest';
/** Same content as TEST_IMAGE except /image-name, which says which image a container runs. */
export const TEST_IMAGE_ALT = 'localhost/flotilla-test-alt:latest';

const script = fileURLToPath(new URL('../../scripts/ensure-podman.sh', import.meta.url));
let conf: string | undefined;

/** Makes podman usable and returns the containers.conf path (also exported as CONTAINERS_CONF). */
export function ensurePodman(): string {
  if (!conf) {
    conf = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    process.env.CONTAINERS_CONF = conf;
  }
  return conf;
}

/** Names of the containers podman knows (running or not) whose name starts with `prefix`. */
export function podmanContainers(prefix: string): string[] {
  const out = execFileSync('podman', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8' });
  return out.split('\n').filter((n) => n.startsWith(prefix));
}
