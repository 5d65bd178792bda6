export {
  type StartTaskEmulatorsOptions,
  startTaskEmulators,
  TASK_EMULATOR_DEFAULTS,
  type TaskEmulatorNames,
  type TaskEmulators,
} from './task-emulators.js';
