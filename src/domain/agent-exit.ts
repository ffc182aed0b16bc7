// How an agent tells what runs it why it ended, where that matters to the machine: a cloud machine's start-up
// script powers the machine off when its agent gave up on an unreachable control plane (it would otherwise run,
// and bill, for as long as the control plane stays gone: nobody is left to stop it).

/** The agent was idle and could not reach its control plane for its --exit-if-unreachable time (EX_UNAVAILABLE). */
export const EXIT_UNREACHABLE = 69;

/**
 * What powers a cloud machine off when its control plane is gone for good (AWS terminates it: the provider launches
 * with shutdown behaviour terminate). Shared by Flotilla's agent machines and clearml-agent machines' watchdog.
 */
export const DEFAULT_POWER_OFF = 'if [ -d /run/systemd/system ]; then systemctl poweroff; else poweroff || shutdown -h now; fi';
