"""What happens when a step ends: prompts finish, best-of-N groups fork, sequences finish or are cancelled.

A mixin of :class:`perfmodel.sim.replica.Replica` (split out to keep modules small); it works on the
replica's decode set, prefilling items, KV pool and group table, and reports to the world's recorder.
"""

from __future__ import annotations

from perfmodel.sim.kv import blocks_for
from perfmodel.sim.records import CLASS_PREFIX, GROUP_PREFIX, NEW, RESUME, Prefilling, Running, SampleGroup


class SequenceLifecycle:
    """Step completion and sequence accounting (mixed into Replica)."""

    # ---- step completion ----------------------------------------------------------------------------
    def complete(self) -> None:
        """Apply the step that just ended."""
        (keys, n_dec, chunks), start_s, _end_s, cost, kv_blocks_used = self.inflight  # an InFlightStep
        self.inflight = None
        world = self.world
        now = world.env.now
        ds = self.ds
        index = self.cfg.index
        if n_dec:
            world.recorder.decode_end(index, now)
            done = ds.advance() if ds.uniform else self.advance_speculative()
            for uid in done:
                if uid in ds.records:
                    self.finish(uid, now)
        for chunk in chunks:
            item = self.prefilling.get(chunk.uid)
            if item is None:
                continue
            item.computed_tokens += chunk.tokens
            if chunk.final:
                self.pop_item(chunk.uid)
                self.prompt_done(item, now)
        world.recorder.step(index, start_s, now, keys[0], n_dec, len(chunks), len(self.waiting), kv_blocks_used,
                            cost)

    def advance_speculative(self) -> list[int]:
        """Speculative decoding: each sequence emits its accepted drafts + 1 token; records are rebased."""
        ds, q = self.ds, self.cfg.spec_k + 1
        done = []
        t_new = ds.counter + 1
        for uid, rec in list(ds.records.items()):
            gen, held = rec.generated0, rec.held_blocks0
            if not rec.reserved:
                held = max(held, blocks_for(rec.private_tokens0 + q, self.block_size))
            tokens = min(self.world.accepted(rec.seq, gen) + 1, rec.output_len - gen)
            ds.records[uid] = rec.rebased(tokens, t_new, held)
            ds.context_sum += tokens
            if gen + tokens >= rec.output_len:
                done.append(uid)
        ds.counter = t_new
        return done

    def start_decoding(self, item: Prefilling, emit_s: float) -> None:
        """A prompt is computed (or its KV arrived): its sequence(s) join the decode set or finish."""
        wl, bs, ds = self.world.wl, self.block_size, self.ds
        req, shared, prefix_keys = item.req, item.shared_blocks, item.prefix_keys
        reserved = self.reserves_kv
        class_shared = shared > 0 and prefix_keys and prefix_keys[0][0] == CLASS_PREFIX
        if item.kind == RESUME or item.samples == 1:
            seq = item.seq
            gen = item.generated + 1
            out = wl.seq_output_len[seq]
            if item.kind == RESUME and (GROUP_PREFIX, req) in prefix_keys:
                gkey, gp = (GROUP_PREFIX, req), (wl.input_len[req] // bs) * bs
            else:
                gkey, gp = (prefix_keys[0], shared * bs) if class_shared else (None, 0)
            if gen >= out:
                self.pool.release(item.private_blocks)
                self.unref_all(prefix_keys)
                self.world.recorder.run(seq, self.cfg.index, emit_s, ds.counter, ds.counter)
                self.sample_done(seq, req, gen, emit_s)
            else:
                ctx = item.target_tokens
                ds.add(Running(seq=seq, req=req, context0=ctx, generated0=gen, counter0=ds.counter,
                               output_len=out, private_tokens0=ctx - shared * bs, shared_blocks=shared,
                               prefix_keys=prefix_keys, group_key=gkey, group_prefix_tokens=gp,
                               admit_order=item.admit_order, first_emit_s=emit_s, held_blocks0=item.private_blocks,
                               reserved=reserved, joined_counter=ds.counter))
            return
        # best-of-N fork: the prompt's full blocks become the group's shared entry
        samples, prompt = item.samples, wl.input_len[req]
        gkey = (GROUP_PREFIX, req)
        self.pool.add_entry(gkey, prompt // bs - shared, samples)
        for key in prefix_keys:
            self.pool.entries[key].refs += samples - 1
        prefix_keys = prefix_keys + (gkey,)
        group_blocks = prompt // bs
        tail = prompt % bs
        group = self.groups[req] = SampleGroup(needed=wl.first_finish[req], alive=samples, finished=0, done=False,
                                               prefix_keys=prefix_keys, shared_blocks=group_blocks)
        start = wl.seq_start[req]
        outs = wl.seq_output_len
        for i in range(samples):
            seq = start + i
            held = self.reservation_sample(tail, outs[seq]) if reserved else (1 if tail else 0)
            if outs[seq] <= 1 or group.done:  # done with its first token, or its first-finish group already is
                self.pool.release(held)
                self.unref_all(prefix_keys)
                self.world.recorder.run(seq, self.cfg.index, emit_s, ds.counter, ds.counter)
                self.sample_done(seq, req, 1, emit_s, cancelled=outs[seq] > 1)
                continue
            ds.add(Running(seq=seq, req=req, context0=prompt, generated0=1, counter0=ds.counter,
                           output_len=outs[seq], private_tokens0=tail, shared_blocks=group_blocks,
                           prefix_keys=prefix_keys, group_key=gkey, group_prefix_tokens=group_blocks * bs,
                           admit_order=item.admit_order, first_emit_s=emit_s, held_blocks0=held, reserved=reserved,
                           joined_counter=ds.counter))

    def reservation_sample(self, tail: int, out: int) -> int:
        """Blocks one best-of-N sample reserves up front: its copy of the prompt's tail plus its output."""
        return blocks_for(tail + out - 1, self.block_size)

    def prompt_done(self, item: Prefilling, now: float) -> None:
        """The last chunk of a prompt was computed this step."""
        wl, bs = self.world.wl, self.block_size
        req = item.req
        if item.kind == NEW:
            # prefix caching: the first request of a class leaves its prefix blocks cached for the next ones
            prefix = wl.prefix_tokens[req]
            key = (CLASS_PREFIX, wl.class_id[req])
            if (self.cfg.scheduler.prefix_caching and prefix >= bs and item.shared_blocks == 0
                    and key not in self.pool.entries):
                nb = prefix // bs
                self.pool.add_entry(key, nb, 1)
                item.private_blocks -= nb
                item.shared_blocks = nb
                item.prefix_keys = (key,)
            if self.cfg.pool == "prefill":
                self.world.handoff(self, item, now)
                return
            self.world.recorder.first_token(req, now)
        self.start_decoding(item, now)

    def finish(self, uid: int, now: float) -> None:
        """A decoding sequence generated its last token."""
        rec, ctx, gen, held = self.ds.remove(uid)
        self.world.recorder.run(rec.seq, self.cfg.index, rec.first_emit_s, rec.joined_counter, self.ds.counter)
        self.pool.release(held)
        self.unref_all(rec.prefix_keys)
        self.sample_done(rec.seq, rec.req, gen, now)

    def sample_done(self, seq: int, req: int, gen: int, now: float, cancelled: bool = False) -> None:
        """Sequence accounting; a request completes with its last sample (or its m-th, first-finish)."""
        world = self.world
        world.recorder.seq_done(seq, now, gen, cancelled)
        grp = self.groups.get(req)
        if grp is None:
            world.request_done(req, self)
            return
        grp.alive -= 1
        if not cancelled:
            grp.finished += 1
            if grp.finished >= grp.needed and not grp.done:
                grp.done = True
                world.request_done(req, self)
                self.cancel_group(req, now)
        if grp.alive == 0 and req in self.groups:
            del self.groups[req]
            self.pool.drop((GROUP_PREFIX, req))

    def cancel_group(self, req: int, now: float) -> None:
        """First-finish: the request has its m samples; stop the others and free their blocks."""
        ds = self.ds
        for uid in [u for u, r in ds.records.items() if r.req == req and ds.state(r)[1] < r.output_len]:
            rec, ctx, gen, held = ds.remove(uid)  # (samples that ended in this same step count as finished)
            self.world.recorder.run(rec.seq, self.cfg.index, rec.first_emit_s, rec.joined_counter, self.ds.counter)
            self.pool.release(held)
            self.unref_all(rec.prefix_keys)
            self.sample_done(rec.seq, req, gen, now, cancelled=True)
        for uid in [u for u, it in self.prefilling.items() if it.req == req]:
            item = self.pop_item(uid)
            self.pool.release(item.private_blocks)
            self.unref_all(item.prefix_keys)
            self.sample_done(item.seq, req, item.generated, now, cancelled=True)
        for entry in [e for e in self.waiting if e.kind == RESUME and e.req == req]:
            self.waiting.remove(entry)
            self.waiting_tokens -= self.entry_tokens(entry)
            self.sample_done(entry.seq, req, entry.generated, now, cancelled=True)

    def drop_sample(self, seq: int, req: int, gen: int) -> None:
        """A queued sample of a request that already completed is cancelled."""
        self.sample_done(seq, req, gen, self.world.env.now, cancelled=True)

    def release_outgoing(self, req: int) -> None:
        """The KV of a prefilled request reached its decode replica: free it here."""
        private, prefix_keys = self.outgoing.pop(req)
        self.pool.release(private)
        self.unref_all(prefix_keys)
        self.kick()
