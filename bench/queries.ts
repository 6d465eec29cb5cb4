/** Fixed query sets per corpus, so runs on different days compare. */
export interface BenchQuery {
  mode: 'literal' | 'regex';
  pattern: string;
}

const literal = (pattern: string): BenchQuery => ({ mode: 'literal', pattern });
const regex = (pattern: string): BenchQuery => ({ mode: 'regex', pattern });

export const QUERY_SETS: Record<string, BenchQuery[]> = {
  kernel: [
    literal('struct file_operations'),
    literal('tcp_v4_connect'),
    literal('ext4_fill_super'),
    literal('sched_setaffinity'),
    literal('DEFINE_MUTEX('),
    literal('copy_from_user'),
    literal('MODULE_AUTHOR("Linus'),
    literal('spin_lock_irqsave(&dev->lock'),
    regex('static int \\w+_probe\\(struct platform_device'),
    regex('EXPORT_SYMBOL(_GPL)?\\(kmalloc'),
    regex('struct \\w+_operations \\w+_fops = \\{'),
    regex('ext4_[a-z]+_inode\\('),
    regex('(spin|mutex)_lock\\(&\\w+->big_lock\\)'),
    regex('^#define\\s+TCP_\\w+_TIMEOUT'),
  ],
  default: [
    literal('createElement'),
    literal('function parse'),
    literal('Symbol.iterator'),
    literal('process.env.NODE_ENV'),
    literal('new Promise((resolve'),
    literal('throw new TypeError'),
    regex('export (async )?function \\w+Sync\\('),
    regex('class \\w+ extends \\w+Error'),
    regex('require\\([\'"]node:\\w+[\'"]\\)'),
    regex('\\.prototype\\.\\w+ = function'),
  ],
};
