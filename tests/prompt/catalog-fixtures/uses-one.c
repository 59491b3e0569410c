/* uses PROMPT_KEY_GREETING only */
