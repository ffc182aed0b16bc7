// How an agent tells what runs it why it ended, where that matters to the machine: a cloud machine's start-up
// script powers the machine off when its agent gave up on an unreachable control plane (it would otherwise run,
// and bill, for as long as the control plane stays gone: nobody is left to stop it).

/** The agent was idle and could not reach its control plane for its --exit-if-unreachable time (EX_UNAVAILABLE). */
export const EXIT_UNREACHABLE = 69;
