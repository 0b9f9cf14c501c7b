/*
 * Process faults of the isolation fault plugins (tests/isolation).
 *
 * Each is armed through test control (inject_fault with one of these codes,
 * which returns LK_OK at once) and fires in the device's next regular call:
 * deliver_nonce for the camera, lock/unlock/lock_state/door_state for the
 * lock. It fires once; the plugin behaves like the simulated device until
 * then. These kill or wedge the process they run in: load them only into an
 * lk-plugin-host, never in-process.
 */
#ifndef LATCHKEY_TESTS_PROCESS_FAULTS_H
#define LATCHKEY_TESTS_PROCESS_FAULTS_H

#define LK_PROCESS_FAULT_SEGFAULT 0x901u     /* writes through a null pointer */
#define LK_PROCESS_FAULT_ABORT 0x902u        /* abort() */
#define LK_PROCESS_FAULT_ENDLESS_LOOP 0x903u /* spins forever inside the call */
#define LK_PROCESS_FAULT_DEADLOCK 0x904u     /* two threads take two mutexes in opposite order; the call waits forever */
#define LK_PROCESS_FAULT_SLOW 0x905u         /* the call sleeps parameter ms, then behaves normally */
#define LK_PROCESS_FAULT_RUNAWAY_MEMORY 0x906u /* allocates and touches memory until allocation fails, then aborts */
#define LK_PROCESS_FAULT_GARBAGE 0x907u      /* writes random bytes to every socket descriptor of the process */
#define LK_PROCESS_FAULT_OVERSIZED 0x908u    /* writes a frame header announcing a 1 GiB message to every socket */

#endif
