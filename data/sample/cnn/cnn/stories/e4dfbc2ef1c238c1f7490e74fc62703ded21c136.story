Perth (Sample News) -- The new school in Perth opened on Monday after 6 months of work.

Mayor Karin said the school would serve the whole region

"We waited a long time for this," Karin told reporters.

About 60 people attended the opening ceremony.

@highlight

New school opens in Perth after 6 months

@highlight

Mayor Karin says it will serve the region
