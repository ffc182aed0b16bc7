export { renderStartupScript, StartupScriptError, USER_DATA_LIMIT, type StartupScriptOptions, type Cloud, type Supervisor } from './render.js';
export { startupScriptForApp } from './from-app.js';
