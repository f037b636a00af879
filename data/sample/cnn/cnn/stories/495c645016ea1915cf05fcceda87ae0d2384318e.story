Hanoi (Sample News) -- The new bridge in Hanoi opened on Monday after 23 months of work.

Mayor Dara said the bridge would serve the whole region

"We waited a long time for this," Dara told reporters.

About 230 people attended the opening ceremony.

@highlight

New bridge opens in Hanoi after 23 months

@highlight

Mayor Dara says it will serve the region
