export { startServer } from './server.js'
export { startProxy } from './proxy.js'
export { startControl } from './control.js'
export { countingEnvironment } from './counting-environment.js'
