// The core's choice of how the location opens at go if no core phone is online: marshals who
// release together (k of n), a time lock to go time (drand), both, or neither (the default).
import { useState } from 'preact/hooks'
import type { ActionSession, ArmedWays } from '../../model'
import { errorText } from '../errors'
import { locale, t } from '../i18n'
import { useLive } from './live'
import { showTime } from './time'

/** "Opens at go by: a core phone, 2 of 3 marshals or the time lock", in the phone's language. */
export function opensBy(armed: ArmedWays): string {
  const ways = [t('wayCore')]
  if (armed.quorum) ways.push(t('wayQuorum', { k: armed.quorum.k, n: armed.quorum.n }))
  if (armed.timelock) ways.push(t('wayTimelock'))
  return t('opensBy', { ways: new Intl.ListFormat(locale(), { type: 'disjunction' }).format(ways) })
}

export function WithoutUs({ session }: { session: ActionSession }) {
  const live = useLive(
    () => ({ choices: session.marshalChoices(), setting: session.quorumSetting(), armed: session.armed(), timelock: session.timelockSetting() }),
    (cb) => session.onChange(cb),
  )
  return (
    <section class="stack" aria-labelledby="without-us">
      <h2 id="without-us">{t('withoutUsSection')}</h2>
      <p class="muted">{t('withoutUsIntro')}</p>
      <p role="status" data-armed={[live.armed.quorum ? 'quorum' : '', live.armed.timelock ? 'timelock' : ''].filter(Boolean).join(' ') || 'none'}>
        {opensBy(live.armed)}
      </p>
      <Marshals session={session} choices={live.choices} setting={live.setting} armed={live.armed} />
      <TimeLock session={session} setting={live.timelock} armed={live.armed} />
    </section>
  )
}

type Choice = ReturnType<ActionSession['marshalChoices']>[number]

function Marshals({ session, choices, setting, armed }: { session: ActionSession; choices: Choice[]; setting: { k: number; marshals: readonly string[] } | undefined; armed: ArmedWays }) {
  const [picked, setPicked] = useState<ReadonlySet<string> | undefined>()
  const [k, setK] = useState<number | undefined>()
  const [error, setError] = useState<string | undefined>()
  const chosen = picked ?? new Set(setting?.marshals ?? [])
  const need = Math.min(Math.max(2, k ?? setting?.k ?? 2), Math.max(2, chosen.size))
  const save = (value: { k: number; marshals: readonly string[] } | undefined): void => {
    try {
      session.setQuorum(value)
      setPicked(undefined)
      setK(undefined)
      setError(undefined)
    } catch (e) {
      setError(errorText(e))
    }
  }
  return (
    <fieldset class="stack" data-marshals>
      <legend>{t('marshalsHeading')}</legend>
      <p class="muted">{t('marshalsIntro')}</p>
      {choices.length < 2 ? (
        <p class="muted">{t('marshalsNeedTwo')}</p>
      ) : (
        <>
          {choices.map((c) => (
            <label key={c.id} class="check">
              <input
                type="checkbox"
                checked={chosen.has(c.id)}
                onChange={(e) => {
                  const next = new Set(chosen)
                  if ((e.target as HTMLInputElement).checked) next.add(c.id)
                  else next.delete(c.id)
                  setPicked(next)
                }}
              />
              <bdi>{c.label || t('role.participant')}</bdi>
            </label>
          ))}
          <label>
            {t('marshalsHowMany')}
            <select value={String(need)} onChange={(e) => setK(Number((e.target as HTMLSelectElement).value))}>
              {Array.from({ length: Math.max(1, chosen.size - 1) }, (_, i) => i + 2).map((n) => (
                <option key={n} value={String(n)}>
                  {t('marshalsKOfN', { k: n, n: Math.max(2, chosen.size) })}
                </option>
              ))}
            </select>
          </label>
          <div class="row">
            <button type="button" onClick={() => save({ k: need, marshals: [...chosen] })} disabled={chosen.size < 2}>
              {t('marshalsArm')}
            </button>
            {setting && (
              <button type="button" class="secondary" onClick={() => save(undefined)}>
                {t('turnOff')}
              </button>
            )}
          </div>
        </>
      )}
      <p role="status" data-quorum={armed.quorum ? `${armed.quorum.k}/${armed.quorum.n}` : 'off'}>
        {armed.quorum ? t('marshalsArmed', { k: armed.quorum.k, n: armed.quorum.n }) : setting ? t('arming') : t('notArmed')}
      </p>
      {error && <p role="alert">{error}</p>}
    </fieldset>
  )
}

type Network = Awaited<ReturnType<ActionSession['timelockNetwork']>>

function TimeLock({ session, setting, armed }: { session: ActionSession; setting: ReturnType<ActionSession['timelockSetting']>; armed: ArmedWays }) {
  const [asking, setAsking] = useState(false)
  const [unknown, setUnknown] = useState<Network | undefined>()
  const [error, setError] = useState<string | undefined>()
  const arm = (): void => {
    setAsking(true)
    setError(undefined)
    session.timelockNetwork().then(
      (network) => {
        setAsking(false)
        if (network.quicknet) session.setTimelock(network.chain)
        else setUnknown(network)
      },
      (e: unknown) => {
        setAsking(false)
        setError(errorText(e))
      },
    )
  }
  return (
    <fieldset class="stack" data-timelock>
      <legend>{t('timelockHeading')}</legend>
      <p class="muted">{t('timelockIntro')}</p>
      {!setting && !unknown && (
        <button type="button" onClick={arm} disabled={asking}>
          {t('timelockArm')}
        </button>
      )}
      {unknown && (
        <div class="confirm stack" role="alertdialog" aria-labelledby="unknown-network">
          <p id="unknown-network">{t('timelockUnknownNetwork')}</p>
          <div class="row">
            <button
              type="button"
              class="danger"
              onClick={() => {
                session.setTimelock(unknown.chain)
                setUnknown(undefined)
              }}
            >
              {t('timelockUseAnyway')}
            </button>
            <button type="button" class="secondary" onClick={() => setUnknown(undefined)}>
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
      {setting && (
        <button type="button" class="secondary" onClick={() => session.setTimelock(undefined)}>
          {t('turnOff')}
        </button>
      )}
      <p role="status" data-timelock-state={armed.timelock ? 'armed' : 'off'}>
        {armed.timelock ? t('timelockArmed', { time: showTime(armed.timelock.at) }) : setting ? t('timelockWaiting') : t('notArmed')}
      </p>
      {armed.timelock && !armed.timelock.quicknet && <p class="muted">{t('timelockNotDrand')}</p>}
      {error && <p role="alert">{error}</p>}
    </fieldset>
  )
}
