// The forms' choices (presets, services, roles) as the console labels them, fetched once per
// language; identity checks are the counter's own vocabulary.
import { commands, type Choices } from "./api";
import { i18n } from "./i18n.svelte";

export const IDENTITY_CHECKS = ["seal", "id_card", "phone"] as const;

export const choices = $state<{ lang: string; value: Choices | null }>({ lang: "", value: null });

/** Loads the choices when missing or in another language. */
export async function loadChoices(): Promise<Choices> {
  if (choices.value && choices.lang === i18n.lang) return choices.value;
  const got = await commands.choices();
  choices.value = got;
  choices.lang = i18n.lang;
  return got;
}
