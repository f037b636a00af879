Accra (Sample News) -- The new bridge in Accra opened on Monday after 10 months of work.

Mayor Jun said the bridge would serve the whole region

"We waited a long time for this," Jun told reporters.

About 100 people attended the opening ceremony.

@highlight

New bridge opens in Accra after 10 months

@highlight

Mayor Jun says it will serve the region
