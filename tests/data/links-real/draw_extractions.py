exec(open('/tmp/links-exp/h.py').read().split("sys.path.insert(0,'/tmp/links-exp')")[0])
import random
from kehoach.corpus.link import evidence_text
sys.path.insert(0, str(R)); from sample import predicted_pairs
pairs = predicted_pairs(lk)
multi = [c for c in lk.clusters() if len(c) > 1]
print(f"{len(lk.tasks)} tasks, {len(exts)} plans, {len(multi)} clusters of 2+ tasks, {len(pairs)} distinct cross-plan pairs", file=sys.stderr)
rng = random.Random(1204)
pick = rng.sample(pairs, min(50, len(pairs)))
src = {Path(e.source).stem: e.source for e in exts}
out = []
for x, y in pick:
    ev = lk.evidence(x, y); tx, ty = lk.tasks[x], lk.tasks[y]
    out.append({"a": {"plan": src[tx.plan], "task": tx.task_id, "text": tx.text},
                "b": {"plan": src[ty.plan], "task": ty.task_id, "text": ty.text},
                "prob": round(lk.prob(x, y), 4), "reason": evidence_text(ev), "verdict": None})
json.dump(out, open('/tmp/links-exp/fresh2.json', 'w'), ensure_ascii=False, indent=1)
