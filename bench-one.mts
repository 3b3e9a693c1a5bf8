import { crowdRows } from './bench/crowd'
import { printTable } from './bench/table'
printTable('Crowd', await crowdRows(process.argv.includes('--quick')))
process.exit(0)
