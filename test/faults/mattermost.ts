// Mattermost (the real server, test/mattermost/harness.ts) away while alerts are due: alerts lost and alerts
// posted twice, and how long after Mattermost is back they arrive. Three ways: down before the digest is due;
// killed in the middle of the digest window; and down while the bridge itself is killed -9 and started again.
import {readAlertData} from '../../common/alert';
import {alertPosts, channelPosts} from '../bridge/helpers';
import {startMattermost} from '../mattermost/harness';
import {home, lines, until, type Figures} from './scenarios';
import {appendLines} from './bridge-process';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function mattermostDown(): Promise<Figures> {
  const mm = await startMattermost();
  const h = await home('mm', {MATTERMOST_URL: mm.url, MATTERMOST_TOKEN: mm.adminToken, EGRESS_ADVISOR_TEAM: mm.team.name, EGRESS_ADVISOR_DIGEST_SECONDS: '2'});
  const admin = mm.client();
  try {
    await h.bridge.start();
    const channelId = await until(
      'the bridge to set up its channel',
      async () => (await admin.getChannelByName(mm.team.id, 'egress-advisor').catch(() => null)) !== null,
      h,
    ).then(async () => (await admin.getChannelByName(mm.team.id, 'egress-advisor')).id);
    // Alert posts per destination key: one each is the promise.
    const announced = async (): Promise<Map<string, number>> => {
      const n = new Map<string, number>();
      for (const p of alertPosts(await channelPosts(admin, channelId)))
        for (const f of readAlertData(p.props)?.findings ?? []) n.set(f.key, (n.get(f.key) ?? 0) + 1);
      return n;
    };
    const keys: string[] = [];
    const recover: string[] = [];
    const round = async (tag: string, fault: () => Promise<void>): Promise<void> => {
      const batch = lines(tag, 6, 3);
      keys.push(...new Set(batch.map((l) => l.key)));
      await fault();
      appendLines(h.logFile, h.appended, batch);
      await sleep(4_000);
      if (!mm.running) await mm.startProcess();
      const t0 = Date.now();
      await until(
        `the ${tag} alerts`,
        async () => {
          const a = await announced();
          return batch.every((l) => (a.get(l.key) ?? 0) > 0);
        },
        h,
        180_000,
      );
      recover.push(`${tag} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };
    // Down before the digest is due.
    await round('down-before', () => mm.stopProcess());
    // Killed inside the digest window: the first attempt meets a server going away.
    await round('down-during', async () => {
      setTimeout(() => void mm.stopProcess(), 1_900);
    });
    // Down, and the bridge killed -9 and started again meanwhile: the outbox survives the crash.
    await round('bridge-killed', async () => {
      await mm.stopProcess();
      setTimeout(() => {
        void h.bridge
          .kill9()
          .then(() => h.bridge.start())
          .catch((err: Error) => process.stdout.write(`  the bridge did not start again: ${err.message}\n`));
      }, 2_500);
    });
    // Whatever is still in flight settles; a second post of anything would show now.
    await sleep(5_000);
    const a = await announced();
    const lost = keys.filter((k) => (a.get(k) ?? 0) === 0).length;
    const twice = keys.reduce((n, k) => n + Math.max(0, (a.get(k) ?? 0) - 1), 0);
    return {
      scenario: 'Mattermost away while alerts are due (down before, stopped inside the digest window, and with the bridge killed -9 meanwhile)',
      rows: [
        ['destinations that should alert', keys.length],
        ['alerts lost', lost],
        ['alerts posted twice', twice],
        ['bridge starts (one kill -9)', h.bridge.starts],
        ['time from Mattermost back to the alert', recover.join(', ')],
      ],
    };
  } finally {
    await h.bridge.stop();
    await mm.stop();
  }
}
