Riga (Sample News) -- The new school in Riga opened on Monday after 18 months of work.

Mayor Anna said the school would serve the whole region

"We waited a long time for this," Anna told reporters.

About 180 people attended the opening ceremony.

@highlight

New school opens in Riga after 18 months

@highlight

Mayor Anna says it will serve the region
