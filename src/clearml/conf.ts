// The clearml.conf an agent reads: the API server and the key pair, and where it keeps its work. Written to a
// 0600 file that the agent reads through CLEARML_CONFIG_FILE: the secret is never on a command line or in a log.
export interface ClearmlCredentials {
  /** ClearML's api_server: https://api.clear.ml, a self-hosted server's, or Flotilla's `<url>/clearml`. */
  apiServer: string;
  accessKey: string;
  secretKey: string;
  /** The web and files servers (default: the API server; an agent that runs no SDK never calls them). */
  webServer?: string;
  filesServer?: string;
}

export function renderClearmlConf(c: ClearmlCredentials, o: { workDir?: string } = {}): string {
  const q = JSON.stringify; // HOCON reads JSON strings as they are
  const lines = [
    'api {',
    `  api_server: ${q(c.apiServer)}`,
    `  web_server: ${q(c.webServer ?? c.apiServer)}`,
    `  files_server: ${q(c.filesServer ?? c.apiServer)}`,
    `  credentials { access_key: ${q(c.accessKey)}, secret_key: ${q(c.secretKey)} }`,
    '}',
  ];
  if (o.workDir) lines.push(
    'agent {',
    `  venvs_dir: ${q(`${o.workDir}/venvs`)}`,
    `  venvs_cache { path: ${q(`${o.workDir}/venvs-cache`)} }`,
    `  vcs_cache { enabled: false, path: ${q(`${o.workDir}/vcs-cache`)} }`,
    `  pip_download_cache { enabled: false, path: ${q(`${o.workDir}/pip-cache`)} }`,
    `  docker_pip_cache: ${q(`${o.workDir}/docker-pip-cache`)}`,
    `  docker_apt_cache: ${q(`${o.workDir}/docker-apt-cache`)}`,
    '}',
    'sdk { storage { cache { default_base_dir: ' + q(`${o.workDir}/cache`) + ' } } }',
  );
  return lines.join('\n') + '\n';
}
